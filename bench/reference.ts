// Float64 references for the bench workloads: every engine's first result is
// checked against these (on sampled entries for the big ones) before any of
// its times count. A wrong fast result is a failure, not a win.

import { input, modelInit, labels, type Workload } from "./workloads.js";

export interface Check {
  ok: boolean;
  /** Largest |got − want| / tolerance over the checked entries (≤ 1 passes). */
  worst: number;
  detail: string;
}

/** Indices 0, last, and `n` spread pseudo-randomly in between. */
function samples(total: number, n = 48): number[] {
  const out = new Set([0, total - 1]);
  for (let s = 1; out.size < Math.min(total, n); s++) out.add((s * 2654435761) % total);
  return [...out];
}

class Checker {
  worst = 0;
  at = "";
  /** tol: the error a correct float32 computation can make here. */
  see(got: number, want: number, tol: number, where: string): void {
    const e = Number.isFinite(got) ? Math.abs(got - want) / tol : Infinity;
    if (e > this.worst) {
      this.worst = e;
      this.at = `${where}: got ${got}, want ${want}`;
    }
  }
  done(what: string): Check {
    return { ok: this.worst <= 1, worst: this.worst, detail: `${what}${this.worst > 1 ? ` — worst ${this.at}` : ""}` };
  }
}

const EPS = 1e-5; // relative to the sum of |terms|: float32 accumulation over ≤ 10⁴ terms, FMA or not

function checkGemm(w: Extract<Workload, { kind: "gemm" }>, got: Float32Array): Check {
  const a = input(w.m * w.k, 1), b = input(w.k * w.n, 2), c = new Checker();
  for (const idx of samples(w.m * w.n)) {
    const i = Math.floor(idx / w.n), j = idx % w.n;
    let s = 0, abs = 0;
    for (let p = 0; p < w.k; p++) {
      const t = a[i * w.k + p] * b[p * w.n + j];
      s += t;
      abs += Math.abs(t);
    }
    c.see(got[idx], s, EPS * abs * Math.sqrt(w.k) / 8 + 1e-6, `C[${i},${j}]`);
  }
  return c.done(`${got.length} outputs, ${samples(w.m * w.n).length} checked`);
}

function checkConv(w: Extract<Workload, { kind: "conv" }>, got: Float32Array): Check {
  const x = input(w.n * w.c * w.h * w.w, 1), wt = input(w.oc * w.c * w.kh * w.kw, 2).map((v) => v * 0.2);
  const oh = w.h + 2 * w.pad - w.kh + 1, ow = w.w + 2 * w.pad - w.kw + 1;
  const X = (n: number, c: number, y: number, xx: number) =>
    y < 0 || y >= w.h || xx < 0 || xx >= w.w ? 0 : x[((n * w.c + c) * w.h + y) * w.w + xx];
  const c = new Checker();
  if (!w.backward) {
    for (const idx of samples(w.n * w.oc * oh * ow)) {
      let r = idx;
      const ox = r % ow; r = Math.floor(r / ow);
      const oy = r % oh; r = Math.floor(r / oh);
      const o = r % w.oc, n = Math.floor(r / w.oc);
      let s = 0, abs = 0;
      for (let ci = 0; ci < w.c; ci++) for (let i = 0; i < w.kh; i++) for (let j = 0; j < w.kw; j++) {
        const t = wt[((o * w.c + ci) * w.kh + i) * w.kw + j] * X(n, ci, oy + i - w.pad, ox + j - w.pad);
        s += t; abs += Math.abs(t);
      }
      c.see(got[idx], s, EPS * abs + 1e-6, `y[${n},${o},${oy},${ox}]`);
    }
    return c.done("forward y");
  }
  const rr = input(w.n * w.oc * oh * ow, 3);
  for (const idx of samples(w.oc * w.c * w.kh * w.kw, 24)) {
    let r = idx;
    const j = r % w.kw; r = Math.floor(r / w.kw);
    const i = r % w.kh; r = Math.floor(r / w.kh);
    const ci = r % w.c, o = Math.floor(r / w.c);
    let s = 0, abs = 0;
    for (let n = 0; n < w.n; n++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
      const t = rr[((n * w.oc + o) * oh + y) * ow + xx] * X(n, ci, y + i - w.pad, xx + j - w.pad);
      s += t; abs += Math.abs(t);
    }
    c.see(got[idx], s, EPS * abs * 4 + 1e-6, `dW[${o},${ci},${i},${j}]`);
  }
  return c.done("weight gradient dW");
}

function checkAttention(w: Extract<Workload, { kind: "attention" }>, got: Float32Array): Check {
  const n = w.b * w.h * w.s * w.d, D = w.d, S = w.s;
  const q = input(n, 1), k = input(n, 2), v = input(n, 3), r = input(n, 4);
  const scale = 1 / Math.sqrt(D), c = new Checker();
  for (const row of samples(w.b * w.h * S, 24)) {
    const bh = Math.floor(row / S), i = row % S, base = bh * S * D;
    const last = w.causal ? i : S - 1;
    const sc: number[] = [];
    for (let j = 0; j <= last; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += q[base + i * D + d] * k[base + j * D + d];
      sc.push(s * scale);
    }
    const mx = Math.max(...sc), e = sc.map((s) => Math.exp(s - mx)), z = e.reduce((a, b) => a + b, 0);
    const P = e.map((x) => x / z);
    if (!w.backward) {
      for (let d = 0; d < D; d++) {
        let o = 0, abs = 0;
        for (let j = 0; j <= last; j++) { o += P[j] * v[base + j * D + d]; abs += Math.abs(P[j] * v[base + j * D + d]); }
        c.see(got[base + i * D + d], o, 1e-4 * abs + 1e-5, `o[${bh},${i},${d}]`);
      }
      continue;
    }
    const dP = P.map((_, j) => { let s = 0; for (let d = 0; d < D; d++) s += r[base + i * D + d] * v[base + j * D + d]; return s; });
    const Di = P.reduce((a, p, j) => a + p * dP[j], 0);
    for (let d = 0; d < D; d++) {
      let g = 0, abs = 0;
      for (let j = 0; j <= last; j++) {
        const t = P[j] * (dP[j] - Di) * k[base + j * D + d] * scale;
        g += t; abs += Math.abs(t);
      }
      c.see(got[base + i * D + d], g, 1e-3 * abs + 1e-5, `dq[${bh},${i},${d}]`);
    }
  }
  return c.done(w.backward ? "dq" : "o");
}

function checkAdam(w: Extract<Workload, { kind: "adam" }>, got: Float32Array): Check {
  const p = input(w.n, 1), g = input(w.n, 2), c = new Checker();
  // step 1: m̂ = g, v̂ = g², so p' = p − lr·g/(|g| + eps)
  for (const i of samples(w.n, 4096)) {
    const want = p[i] - 1e-3 * g[i] / (Math.abs(g[i]) + 1e-8);
    c.see(got[i], want, 1e-6 + 1e-6 * Math.abs(want), `p[${i}]`);
  }
  return c.done("p after one step");
}

/** Mean cross-entropy of the train workload's first forward, in float64. */
export function trainLoss(model: "s1" | "mlp", batch: number): number {
  const W = modelInit(model), x = input(batch * 784, 12), y = labels(batch);
  let total = 0;
  for (let n = 0; n < batch; n++) {
    const img = x.subarray(n * 784, n * 784 + 784);
    let feat: Float64Array;
    if (model === "s1") {
      const cw = W["conv1.weight"].data, cb = W["conv1.bias"].data;
      feat = new Float64Array(16 * 13 * 13);
      for (let o = 0; o < 16; o++) for (let py = 0; py < 13; py++) for (let px = 0; px < 13; px++) {
        let m = -Infinity;
        for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) {
          const yy = py * 2 + dy, xx = px * 2 + dx;
          let s = cb[o];
          for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += cw[o * 9 + i * 3 + j] * img[(yy + i) * 28 + xx + j];
          m = Math.max(m, Math.max(s, 0));
        }
        feat[(o * 13 + py) * 13 + px] = m;
      }
    } else {
      const w1 = W["fc1.weight"].data, b1 = W["fc1.bias"].data;
      feat = new Float64Array(256);
      for (let o = 0; o < 256; o++) {
        let s = b1[o];
        for (let i = 0; i < 784; i++) s += w1[o * 784 + i] * img[i];
        feat[o] = Math.max(s, 0);
      }
    }
    const fw = W[model === "s1" ? "fc.weight" : "fc2.weight"].data, fb = W[model === "s1" ? "fc.bias" : "fc2.bias"].data;
    const logits: number[] = [];
    for (let o = 0; o < 10; o++) {
      let s = fb[o];
      for (let i = 0; i < feat.length; i++) s += fw[o * feat.length + i] * feat[i];
      logits.push(s);
    }
    const mx = Math.max(...logits);
    const lse = mx + Math.log(logits.reduce((a, l) => a + Math.exp(l - mx), 0));
    total += lse - logits[y[n]];
  }
  return total / batch;
}

/**
 * int8 x·Wᵀ (issue 16 item 2): within a bound of the quantisation error. Each
 * weight is off by at most half its channel's step (max|W[j]|/254) and each
 * input by half its row's step (range/254 at 7 bits, the coarser of webgrad's
 * and ORT's 8-bit range/510), so |y − x·Wᵀ| ≤ Σ_p (|x_p|·δw + |W_jp|·δx + δw·δx).
 */
function checkGemmInt8(w: Extract<Workload, { kind: "gemm-int8" }>, got: Float32Array): Check {
  const x = input(w.m * w.k, 1), wt = input(w.n * w.k, 2), c = new Checker();
  for (const idx of samples(w.m * w.n)) {
    const i = Math.floor(idx / w.n), j = idx % w.n;
    let s = 0, ax = 0, aw = 0, lo = 0, hi = 0, mw = 0;
    for (let p = 0; p < w.k; p++) {
      const xv = x[i * w.k + p], wv = wt[j * w.k + p];
      s += xv * wv; ax += Math.abs(xv); aw += Math.abs(wv);
      lo = Math.min(lo, xv); hi = Math.max(hi, xv); mw = Math.max(mw, Math.abs(wv));
    }
    const dw = mw / 254, dx = (hi - lo) / 254;
    c.see(got[idx], s, ax * dw + aw * dx + w.k * dw * dx + 1e-5 * (ax + aw), `y[${i},${j}]`);
  }
  return c.done(`${got.length} outputs, ${samples(w.m * w.n).length} checked against the quantisation bound`);
}

/** Checks an engine's first result for workload `w`. */
export function check(w: Workload, got: Float32Array): Check {
  switch (w.kind) {
    case "gemm": return checkGemm(w, got);
    case "gemm-int8": return checkGemmInt8(w, got);
    case "conv": return checkConv(w, got);
    case "attention": return checkAttention(w, got);
    case "adam": return checkAdam(w, got);
    case "train": {
      const want = trainLoss(w.model, w.batch), c = new Checker();
      c.see(got[0], want, 1e-4 * Math.abs(want) + 1e-5, "first loss");
      return c.done(`first loss ${want.toFixed(5)}`);
    }
  }
}
