#!/usr/bin/env python3
# Native PyTorch (CPU) as a reference engine of `npm run bench`: the same workloads
# as bench/workloads.ts on the same inputs (torch_inputs.py, bit for bit), driven by
# bench/run.ts over stdin/stdout with bench/engine-child.ts's protocol, one JSON
# message a line:
#   → {op:"info"}                 ← {ok, torch, python, numpy, settings...} (what the bench prints once)
#   → {op:"prepare", workload, warmLimitMs?}
#                                 ← {ok, result, firstMs, warmMs, warmRounds, warmSettled}
#                                   result: the first run's result tensor as base64 float32 (little-endian);
#                                   the parent checks it with bench/reference.ts, as it checks every engine
#   → {op:"run", reps}            ← {ms: [per-run milliseconds]}
#   → {op:"dispose"}              ← {ok}
#
#   python3 bench/engines/torch-child.py <threads>
#
# Fair-comparison settings (all printed by the bench through "info"):
#  - threads: OMP_NUM_THREADS, MKL_NUM_THREADS and OPENBLAS_NUM_THREADS are set to
#    <threads> before torch loads (the parent sets them too), then
#    torch.set_num_threads(<threads>): ATen's OpenMP loops, oneDNN and the BLAS
#    all use that many threads, as webgrad's <threads>t config uses that many workers.
#  - oneDNN (torch.backends.mkldnn) stays on, PyTorch's default: conv runs there.
#  - forward-only workloads run under torch.inference_mode() (no autograd records);
#    fwd+bwd and train workloads record as a user's training loop does, and clear
#    their gradients with `grad = None` (zero_grad(set_to_none=True)), as webgrad's
#    zeroGrad() frees them.
#  - GEMM writes into one preallocated output (torch.mm(a, b, out=c)), as webgrad's
#    gemm_f32 row does; every other workload allocates its tensors per run, as a user's
#    code does. PyTorch's CPU allocator is c10's DefaultCPUAllocator: glibc malloc,
#    64-byte aligned, no cache of its own (the caching allocators are CUDA's, and
#    mobile's opt-in CPUCachingAllocator). The parent sets GLIBC_TUNABLES so that
#    glibc keeps freed large blocks for reuse instead of unmapping them (bench/torch.ts
#    TORCH_MALLOC says why: page faults, not compute, dominated Adam 10M without it).
#  - timing: time.perf_counter() around each run inside this process (no pipe or JSON
#    in the timed part), after the same warm-up rule as engine-child.ts's warmUp.
#  - attention: PyTorch 1.13 has no public scaled_dot_product_attention (2.0 adds it),
#    so it is the composite a 1.13 user writes: softmax(q·kᵀ/√d + causal −inf mask)·v.

import base64
import json
import os
import sys
import time

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 1
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = str(THREADS)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from torch_inputs import input, labels, model_init, scaled  # noqa: E402

torch.set_num_threads(THREADS)

# The same warm-up rule as bench/engine-child.ts: rounds of ~40 ms until, after 250 ms,
# three consecutive rounds' medians agree within 10%, or the limit passes.
WARM_LIMIT_MS = 3000
WARM_ROUND_MS = 40
SETTLED = 0.1
WARM_MIN_MS = 250


def send(m):
    sys.stdout.write(json.dumps(m) + "\n")
    sys.stdout.flush()


def t(a, requires_grad=False):
    return torch.from_numpy(np.ascontiguousarray(a)).requires_grad_(requires_grad)


def b64(x: torch.Tensor) -> str:
    return base64.b64encode(x.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()).decode()


def blas_library() -> dict:
    """The BLAS shared object torch.mm runs on: Debian's python3-torch links libblas.so.3, which
    update-alternatives points at netlib's reference BLAS (libblas3), OpenBLAS or BLIS."""
    try:
        with open("/proc/self/maps") as f:
            mapped = sorted({os.path.realpath(line.split()[-1]) for line in f if "blas" in line.split()[-1].lower()})
    except OSError:
        return {"path": "unknown (no /proc)", "kind": "unknown"}
    path = ", ".join(p for p in mapped if "lapack" not in p) or "none mapped"
    if any("openblas" in p for p in mapped):
        kind = "OpenBLAS"
        try:  # its version and the kernels it picked for this CPU
            import ctypes
            lib = ctypes.CDLL(next(p for p in mapped if "openblas" in p))
            lib.openblas_get_config.restype = lib.openblas_get_corename.restype = ctypes.c_char_p
            kind = f"{lib.openblas_get_config().decode()}, {lib.openblas_get_corename().decode()} kernels"
        except (OSError, AttributeError, StopIteration):
            pass
    elif any("blis" in p for p in mapped):
        kind = "BLIS"
    elif any("/blas/libblas.so" in p for p in mapped):
        kind = "reference"  # Debian's libblas3: netlib's Fortran loops
    else:
        kind = "unknown"
    return {"path": path, "kind": kind}


def info():
    cfg = torch.__config__.show()
    lines = [l.strip(" -") for l in cfg.splitlines()]
    keep = [l for l in lines if any(k in l for k in ("MKL-DNN", "OpenMP", "CPU capability")) and not l.startswith("Build settings")]
    build = next((l for l in lines if l.startswith("Build settings")), "")
    settings = [s.strip() for s in build.removeprefix("Build settings:").split(", ") if s.strip().split("=")[0] in ("BLAS_INFO", "USE_MKLDNN", "USE_OPENMP")]
    return {
        "ok": True,
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "threads": torch.get_num_threads(),
        "interopThreads": torch.get_num_interop_threads(),
        "env": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "mkldnn": {"available": torch.backends.mkldnn.is_available(), "enabled": torch.backends.mkldnn.enabled},
        "parallelBackend": next((l.split(":", 1)[1].strip() for l in torch.__config__.parallel_info().splitlines() if "parallel backend" in l), "?"),
        "config": keep + settings,
        "blas": blas_library(),
        "allocator": "c10 DefaultCPUAllocator (glibc malloc, 64-byte aligned, no cache of its own), "
                     f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES') or '(unset: glibc defaults)'}",
    }


class Prepared:
    def __init__(self, step, inference):
        self.step, self.inference, self.first = step, inference, None

    def run(self):
        if self.inference:
            with torch.inference_mode():
                r = self.step()
        else:
            r = self.step()
        if self.first is None:
            self.first = r.detach().clone()


def prepare(w) -> Prepared:
    kind = w["kind"]
    if kind == "gemm":
        m, n, k = w["m"], w["n"], w["k"]
        a, b = t(input(m * k, 1).reshape(m, k)), t(input(k * n, 2).reshape(k, n))
        c = torch.empty(m, n)
        return Prepared(lambda: torch.mm(a, b, out=c), True)
    if kind == "conv":
        bw = w["backward"]
        x = t(input(w["n"] * w["c"] * w["h"] * w["w"], 1).reshape(w["n"], w["c"], w["h"], w["w"]), bw)
        wt = t(scaled(input(w["oc"] * w["c"] * w["kh"] * w["kw"], 2), 0.2).reshape(w["oc"], w["c"], w["kh"], w["kw"]), bw)
        oh, ow = w["h"] + 2 * w["pad"] - w["kh"] + 1, w["w"] + 2 * w["pad"] - w["kw"] + 1
        r = t(input(w["n"] * w["oc"] * oh * ow, 3).reshape(w["n"], w["oc"], oh, ow))

        def step():
            y = F.conv2d(x, wt, padding=w["pad"])
            if not bw:
                return y
            x.grad = wt.grad = None
            (y * r).sum().backward()
            return wt.grad
        return Prepared(step, not bw)
    if kind == "attention":
        bw, shape = w["backward"], (w["b"], w["h"], w["s"], w["d"])
        size = int(np.prod(shape))
        q, k, v = (t(input(size, seed).reshape(shape), bw) for seed in (1, 2, 3))
        r = t(input(size, 4).reshape(shape))
        scale = 1 / float(np.sqrt(w["d"]))
        mask = torch.ones(w["s"], w["s"], dtype=torch.bool).triu(1) if w["causal"] else None

        def step():
            s = torch.matmul(q, k.transpose(-2, -1)) * scale
            if mask is not None:
                s = s.masked_fill(mask, float("-inf"))
            o = torch.matmul(torch.softmax(s, dim=-1), v)
            if not bw:
                return o
            q.grad = k.grad = v.grad = None
            (o * r).sum().backward()
            return q.grad
        return Prepared(step, not bw)
    if kind == "adam":
        p = torch.nn.Parameter(t(input(w["n"], 1)))
        p.grad = t(input(w["n"], 2))
        opt = torch.optim.Adam([p], lr=1e-3)

        def step():
            opt.step()
            return p
        return Prepared(step, False)
    # issue 16 item 2: the int8 GEMM as PyTorch runs a dynamically quantised Linear (fbgemm:
    # int8 weights, activations quantised per call with reduce_range's 7 bits on x86)
    if kind == "gemm-int8":
        m, n, k = w["m"], w["n"], w["k"]
        lin = torch.nn.Linear(k, n, bias=False)
        with torch.no_grad():
            lin.weight.copy_(t(input(n * k, 2).reshape(n, k)))
        q = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(lin), {torch.nn.Linear}, dtype=torch.qint8)
        x = t(input(m * k, 1).reshape(m, k))
        return Prepared(lambda: q(x), True)
    if kind == "train":
        if w["model"] == "s1":
            net = torch.nn.ModuleDict({"conv1": torch.nn.Conv2d(1, 16, 3), "fc": torch.nn.Linear(2704, 10)})
            fwd = lambda x: net["fc"](F.max_pool2d(torch.relu(net["conv1"](x)), 2).flatten(1))  # noqa: E731
            shape = (w["batch"], 1, 28, 28)
        else:
            net = torch.nn.ModuleDict({"fc1": torch.nn.Linear(784, 256), "fc2": torch.nn.Linear(256, 10)})
            fwd = lambda x: net["fc2"](torch.relu(net["fc1"](x)))  # noqa: E731
            shape = (w["batch"], 784)
        net.load_state_dict({k: torch.from_numpy(v) for k, v in model_init(w["model"]).items()}, strict=True)
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        x = t(input(w["batch"] * 784, 12).reshape(shape))
        y = torch.from_numpy(labels(w["batch"]))

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(fwd(x), y)
            loss.backward()
            opt.step()
            return loss.detach().reshape(1)
        return Prepared(step, False)
    return None


def time_runs(p: Prepared, reps: int) -> list:
    ms = []
    for _ in range(reps):
        t0 = time.perf_counter()
        p.run()
        ms.append((time.perf_counter() - t0) * 1e3)
    return ms


def warm_up(p: Prepared, limit_ms: float):
    start = time.perf_counter()
    best = time_runs(p, 1)[0]
    medians = []
    while True:
        reps = max(2, min(200, round(WARM_ROUND_MS / max(best, 0.01))))
        ms = time_runs(p, reps)
        best = min(best, *ms)
        medians.append(sorted(ms)[len(ms) >> 1])
        elapsed = (time.perf_counter() - start) * 1e3
        last = medians[-3:]
        settled = elapsed >= WARM_MIN_MS and len(last) == 3 and max(last) <= min(last) * (1 + SETTLED)
        if settled or elapsed >= limit_ms:
            return {"warmMs": medians[-1], "warmRounds": len(medians), "warmSettled": settled}


def main():
    current = None
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        try:
            op = msg["op"]
            if op == "info":
                send(info())
            elif op == "prepare":
                current = prepare(msg["workload"])
                if current is None:
                    send({"ok": True, "unsupported": True})
                    continue
                t0 = time.perf_counter()
                current.run()
                first_ms = (time.perf_counter() - t0) * 1e3
                warm = warm_up(current, msg.get("warmLimitMs", WARM_LIMIT_MS))
                send({"ok": True, "result": b64(current.first), "firstMs": first_ms, **warm})
            elif op == "run":
                send({"ms": time_runs(current, msg["reps"])})
            elif op == "dispose":
                current = None
                send({"ok": True})
        except Exception as e:  # noqa: BLE001 (reported to the parent, as engine-child.ts does)
            import traceback
            send({"ok": False, "error": f"{e!r}\n{traceback.format_exc()}"})


if __name__ == "__main__":
    main()
