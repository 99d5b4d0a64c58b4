# The bench's inputs in Python, bit for bit those of bench/workloads.ts, so native
# PyTorch (bench/engines/torch-child.py) computes on the very same numbers as the
# wasm engines and its first result passes the same float64 check (bench/reference.ts).
#
#   rng(seed)         host/random.ts's mulberry32, one float64 in [0, 1) per call
#   input(n, seed)    Float32Array.from(n draws, r => r*2 − 1): float64, then rounded to float32
#   model_init(model) modelInit(): input(...) scaled in float64 and rounded to float32 again
#   labels(batch)     i % 10
#
# mulberry32's state after k calls is seed + k·0x6D2B79F5 (mod 2³²), so the n draws
# are computed at once with numpy's uint32 arithmetic (which wraps mod 2³², as
# Math.imul and JavaScript's `>>> 0` do): the 10-million-entry Adam input takes
# well under a second instead of a Python loop's half a minute.
#
# Only numpy: test/bench-torch.test.ts checks these bytes against the TypeScript
# generator wherever python3 and numpy exist, torch or not
# (`python3 bench/engines/torch_inputs.py` prints them for that test).

import numpy as np

_GOLDEN = 0x6D2B79F5
_M32 = 0xFFFFFFFF


def rng_draws(n: int, seed: int) -> np.ndarray:
    """The first n values of host/random.ts rng(seed), as float64."""
    k = np.arange(1, n + 1, dtype=np.uint64)
    a = (((seed & _M32) + k * _GOLDEN) & _M32).astype(np.uint32)
    with np.errstate(over="ignore"):
        t = a
        t = (t ^ (t >> np.uint32(15))) * (t | np.uint32(1))  # Math.imul(t ^ (t >>> 15), t | 1)
        t = t ^ (t + (t ^ (t >> np.uint32(7))) * (t | np.uint32(61)))  # t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        t = t ^ (t >> np.uint32(14))
    return t.astype(np.float64) / 4294967296.0


def input(n: int, seed: int) -> np.ndarray:  # noqa: A001 (the name bench/workloads.ts uses)
    """bench/workloads.ts input(n, seed): float32 in [-1, 1)."""
    return (rng_draws(n, seed) * 2.0 - 1.0).astype(np.float32)


def scaled(x: np.ndarray, scale: float) -> np.ndarray:
    """Float32Array.map(v => v * scale): the product in float64, rounded to float32."""
    return (x.astype(np.float64) * scale).astype(np.float32)


def model_init(model: str) -> dict:
    """bench/workloads.ts modelInit(): PyTorch parameter names → float32 arrays of their shapes."""
    def p(shape, seed, scale):
        return scaled(input(int(np.prod(shape)), seed), scale).reshape(shape)

    def zeros(n):
        return np.zeros(n, dtype=np.float32)

    if model == "s1":
        return {"conv1.weight": p([16, 1, 3, 3], 20, 1 / 3), "conv1.bias": zeros(16),
                "fc.weight": p([10, 2704], 21, 1 / 52), "fc.bias": zeros(10)}
    return {"fc1.weight": p([256, 784], 22, 1 / 28), "fc1.bias": zeros(256),
            "fc2.weight": p([10, 256], 23, 1 / 16), "fc2.bias": zeros(10)}


def labels(batch: int) -> np.ndarray:
    return (np.arange(batch) % 10).astype(np.int64)


if __name__ == "__main__":
    # For test/bench-torch.test.ts: one JSON object of base64 float32 bytes (little-endian).
    import base64
    import json
    import sys

    le = lambda a: base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode()  # noqa: E731
    out = {"input": {}, "model": {}, "labels": [int(v) for v in labels(23)]}
    for spec in sys.argv[1:] or ["1000:1", "4099:12", "7:0", "5:4294967295"]:
        n, seed = (int(v) for v in spec.split(":"))
        out["input"][spec] = le(input(n, seed))
    for model in ("s1", "mlp"):
        out["model"][model] = {k: le(v) for k, v in model_init(model).items()}
    out["conv_weight"] = le(scaled(input(333, 2), 0.2))
    print(json.dumps(out))
