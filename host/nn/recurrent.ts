// LSTM and GRU with PyTorch's weight names (weight_ih_l0, weight_hh_l0,
// bias_ih_l0, bias_hh_l0, ...), gate order (LSTM: i, f, g, o; GRU: r, z, n)
// and initialisation (uniform ±1/√hidden). Each time step is a handful of ops
// on the tape; the input projection of a whole layer is one GEMM up front.

import { Tensor } from "../tensor.js";
import * as ops from "../ops/index.js";
import { shapeStr, checkOptions, checkInt, checkBool, checkProb } from "../ops/util.js";
import { Module, parameter } from "./module.js";

export interface RecurrentOptions {
  numLayers?: number;
  bias?: boolean;
  /** Input and output are [batch, seq, feature] instead of [seq, batch, feature]. */
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last (training mode only). */
  dropout?: number;
}

abstract class RecurrentBase extends Module {
  // layer 0's parameters, typed (every layer's are made by name in the constructor)
  declare weight_ih_l0: Tensor;
  declare weight_hh_l0: Tensor;
  declare bias_ih_l0: Tensor | undefined;
  declare bias_hh_l0: Tensor | undefined;
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly hasBias: boolean;
  constructor(readonly inputSize: number, readonly hiddenSize: number, gates: number, opts: RecurrentOptions) {
    super();
    const who = new.target.name;
    checkInt(who, "inputSize", inputSize, 1);
    checkInt(who, "hiddenSize", hiddenSize, 1);
    checkOptions(who, opts, ["numLayers", "bias", "batchFirst", "dropout"]);
    if (opts.numLayers !== undefined) checkInt(who, "numLayers", opts.numLayers, 1);
    checkBool(who, "bias", opts.bias);
    checkBool(who, "batchFirst", opts.batchFirst);
    checkProb(who, "dropout", opts.dropout);
    this.numLayers = opts.numLayers ?? 1;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    this.hasBias = opts.bias !== false;
    const bound = 1 / Math.sqrt(hiddenSize);
    const u = (shape: number[]) => parameter(ops.rand(shape, { lo: -bound, hi: bound }));
    for (let l = 0; l < this.numLayers; l++) {
      const inF = l === 0 ? inputSize : hiddenSize;
      const self = this as any;
      self[`weight_ih_l${l}`] = u([gates * hiddenSize, inF]);
      self[`weight_hh_l${l}`] = u([gates * hiddenSize, hiddenSize]);
      if (this.hasBias) {
        self[`bias_ih_l${l}`] = u([gates * hiddenSize]);
        self[`bias_hh_l${l}`] = u([gates * hiddenSize]);
      }
    }
  }

  protected weights(l: number): { wih: Tensor; whh: Tensor; bih: Tensor | null; bhh: Tensor | null } {
    const self = this as any;
    return { wih: self[`weight_ih_l${l}`], whh: self[`weight_hh_l${l}`], bih: self[`bias_ih_l${l}`] ?? null, bhh: self[`bias_hh_l${l}`] ?? null };
  }

  /** Validates x and returns it time-major [T, B, F] with whether it had a batch dim. */
  protected timeMajor(x: Tensor, op: string): { xs: Tensor; batched: boolean } {
    if ((x.rank !== 3 && x.rank !== 2) || x.shape[x.rank - 1] !== this.inputSize) {
      throw new Error(`${op}: input must be ${this.batchFirst ? "[batch, seq" : "[seq, batch"}, ${this.inputSize}] (or unbatched [seq, ${this.inputSize}]), got ${shapeStr(x.shape)}`);
    }
    if (x.rank === 2) return { xs: x.unsqueeze(1), batched: false };
    return { xs: this.batchFirst ? x.transpose(0, 1) : x, batched: true };
  }

  protected initialState(h: Tensor | undefined, B: number, op: string, what: string): Tensor[] {
    const L = this.numLayers, H = this.hiddenSize;
    if (!h) return Array.from({ length: L }, () => ops.zeros([B, H]));
    const hs = h.rank === 2 ? h.unsqueeze(1) : h;
    if (hs.rank !== 3 || hs.shape[0] !== L || hs.shape[1] !== B || hs.shape[2] !== H) {
      throw new Error(`${op}: ${what} must be [${L}, ${B}, ${H}], got ${shapeStr(h.shape)}`);
    }
    return Array.from({ length: L }, (_, l) => hs.slice(0, l, l + 1).reshape(B, H));
  }

  protected finish(outputs: Tensor[], batched: boolean): Tensor {
    const y = ops.stack(outputs, 0); // [T, B, H]
    if (!batched) return y.reshape(y.shape[0], this.hiddenSize);
    return this.batchFirst ? y.transpose(0, 1) : y;
  }

  protected states(hs: Tensor[], batched: boolean): Tensor {
    const s = ops.stack(hs, 0);
    return batched ? s : s.reshape(this.numLayers, this.hiddenSize);
  }
}

/**
 * Multi-layer LSTM, as torch.nn.LSTM. forward(x, [h0, c0]?) returns
 * [output, [hn, cn]]: output [seq, batch, hidden] ([batch, seq, hidden] with
 * batchFirst), hn and cn [numLayers, batch, hidden].
 *
 * @example
 * const lstm = new wg.nn.LSTM(8, 16, { numLayers: 2, batchFirst: true });
 * const [out, [h, c]] = lstm.forward(wg.randn([4, 10, 8]));
 * out.shape; // [4, 10, 16]
 * h.shape; // [2, 4, 16]
 */
export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super(inputSize, hiddenSize, 4, opts);
  }
  forward(x: Tensor, state?: [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    let { xs, batched } = this.timeMajor(x, "LSTM");
    const T = xs.shape[0], B = xs.shape[1], H = this.hiddenSize;
    const h0 = this.initialState(state?.[0], B, "LSTM", "h0");
    const c0 = this.initialState(state?.[1], B, "LSTM", "c0");
    const hn: Tensor[] = [], cn: Tensor[] = [];
    let outputs: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const { wih, whh, bih, bhh } = this.weights(l);
      if (l > 0) xs = ops.dropout(ops.stack(outputs, 0), this.dropout, this.training);
      const xw = ops.linear(xs, wih, bih); // [T, B, 4H], one GEMM for the whole sequence
      let h = h0[l], c = c0[l];
      outputs = [];
      for (let t = 0; t < T; t++) {
        const gates = xw.slice(0, t, t + 1).reshape(B, 4 * H).add(ops.linear(h, whh, bhh));
        const i = gates.slice(1, 0, H).sigmoid();
        const f = gates.slice(1, H, 2 * H).sigmoid();
        const g = gates.slice(1, 2 * H, 3 * H).tanh();
        const o = gates.slice(1, 3 * H, 4 * H).sigmoid();
        c = f.mul(c).add(i.mul(g));
        h = o.mul(c.tanh());
        outputs.push(h);
      }
      hn.push(h);
      cn.push(c);
    }
    return [this.finish(outputs, batched), [this.states(hn, batched), this.states(cn, batched)]];
  }
}

/**
 * Multi-layer GRU, as torch.nn.GRU: r = σ(W_ir x + b_ir + W_hr h + b_hr),
 * z likewise, n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
 * forward(x, h0?) returns [output, hn].
 *
 * @example
 * const gru = new wg.nn.GRU(8, 16);
 * const [out, h] = gru.forward(wg.randn([10, 4, 8]));
 * out.shape; // [10, 4, 16]
 * h.shape; // [1, 4, 16]
 */
export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super(inputSize, hiddenSize, 3, opts);
  }
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] {
    let { xs, batched } = this.timeMajor(x, "GRU");
    const T = xs.shape[0], B = xs.shape[1], H = this.hiddenSize;
    const hInit = this.initialState(h0, B, "GRU", "h0");
    const hn: Tensor[] = [];
    let outputs: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const { wih, whh, bih, bhh } = this.weights(l);
      if (l > 0) xs = ops.dropout(ops.stack(outputs, 0), this.dropout, this.training);
      const xw = ops.linear(xs, wih, bih);
      let h = hInit[l];
      outputs = [];
      for (let t = 0; t < T; t++) {
        const gx = xw.slice(0, t, t + 1).reshape(B, 3 * H);
        const gh = ops.linear(h, whh, bhh);
        const r = gx.slice(1, 0, H).add(gh.slice(1, 0, H)).sigmoid();
        const z = gx.slice(1, H, 2 * H).add(gh.slice(1, H, 2 * H)).sigmoid();
        const n = gx.slice(1, 2 * H, 3 * H).add(r.mul(gh.slice(1, 2 * H, 3 * H))).tanh();
        h = n.add(z.mul(h.sub(n)));
        outputs.push(h);
      }
      hn.push(h);
    }
    return [this.finish(outputs, batched), this.states(hn, batched)];
  }
}
