// LSTM and GRU with PyTorch's weight names (weight_ih_l0, weight_hh_l0,
// bias_ih_l0, bias_hh_l0, ..., weight_ih_l0_reverse for the backward
// direction of a bidirectional layer, weight_hr_l0 for an LSTM's projection),
// gate order (LSTM: i, f, g, o; GRU: r, z, n) and initialisation (uniform
// ±1/√hidden). Each time step is a handful of ops on the tape; the input
// projection of a whole layer and direction is one GEMM up front.

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
  /** A second pass over the sequence backwards in every layer; outputs are [forward, backward] along the feature dim. */
  bidirectional?: boolean;
}

export interface LSTMOptions extends RecurrentOptions {
  /** LSTM only: h is projected to projSize features (weight_hr_l{k}); 0 (the default) for none. Must be < hiddenSize. */
  projSize?: number;
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
  readonly bidirectional: boolean;
  /** LSTM's projection size (0: none; always 0 for GRU). */
  readonly projSize: number;
  constructor(readonly inputSize: number, readonly hiddenSize: number, gates: number, opts: LSTMOptions) {
    super();
    const who = new.target.name;
    checkInt(who, "inputSize", inputSize, 1);
    checkInt(who, "hiddenSize", hiddenSize, 1);
    if (gates !== 4 && opts && typeof opts === "object" && "projSize" in opts) {
      throw new Error(`${who}: projSize is only supported for LSTM, not GRU (as in PyTorch)`);
    }
    checkOptions(who, opts, ["numLayers", "bias", "batchFirst", "dropout", "bidirectional", ...(gates === 4 ? ["projSize"] : [])]);
    if (opts.numLayers !== undefined) checkInt(who, "numLayers", opts.numLayers, 1);
    checkBool(who, "bias", opts.bias);
    checkBool(who, "batchFirst", opts.batchFirst);
    checkProb(who, "dropout", opts.dropout);
    checkBool(who, "bidirectional", opts.bidirectional);
    if (opts.projSize !== undefined) {
      checkInt(who, "projSize", opts.projSize, 0);
      if (opts.projSize >= hiddenSize) throw new Error(`${who}: projSize must be smaller than hiddenSize (${hiddenSize}), got ${opts.projSize}`);
    }
    this.numLayers = opts.numLayers ?? 1;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    this.hasBias = opts.bias !== false;
    this.bidirectional = opts.bidirectional ?? false;
    this.projSize = opts.projSize ?? 0;
    const bound = 1 / Math.sqrt(hiddenSize);
    const u = (shape: number[]) => parameter(ops.rand(shape, { lo: -bound, hi: bound }));
    const D = this.directions, R = this.outSize;
    const self = this as any;
    for (let l = 0; l < this.numLayers; l++) {
      const inF = l === 0 ? inputSize : R * D;
      for (let d = 0; d < D; d++) {
        const sfx = `l${l}${d ? "_reverse" : ""}`;
        self[`weight_ih_${sfx}`] = u([gates * hiddenSize, inF]);
        self[`weight_hh_${sfx}`] = u([gates * hiddenSize, R]);
        if (this.hasBias) {
          self[`bias_ih_${sfx}`] = u([gates * hiddenSize]);
          self[`bias_hh_${sfx}`] = u([gates * hiddenSize]);
        }
        if (this.projSize) self[`weight_hr_${sfx}`] = u([this.projSize, hiddenSize]);
      }
    }
  }

  /** 2 when bidirectional, else 1. */
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** Features of h (and of each direction's output): projSize if set, else hiddenSize. */
  get outSize(): number {
    return this.projSize || this.hiddenSize;
  }

  protected weights(l: number, d: number): { wih: Tensor; whh: Tensor; bih: Tensor | null; bhh: Tensor | null; whr: Tensor | null } {
    const self = this as any, sfx = `l${l}${d ? "_reverse" : ""}`;
    return {
      wih: self[`weight_ih_${sfx}`], whh: self[`weight_hh_${sfx}`], bih: self[`bias_ih_${sfx}`] ?? null, bhh: self[`bias_hh_${sfx}`] ?? null,
      whr: self[`weight_hr_${sfx}`] ?? null,
    };
  }

  /** Validates x and returns it time-major [T, B, F] with whether it had a batch dim. */
  protected timeMajor(x: Tensor, op: string): { xs: Tensor; batched: boolean } {
    if ((x.rank !== 3 && x.rank !== 2) || x.shape[x.rank - 1] !== this.inputSize) {
      throw new Error(`${op}: input must be ${this.batchFirst ? "[batch, seq" : "[seq, batch"}, ${this.inputSize}] (or unbatched [seq, ${this.inputSize}]), got ${shapeStr(x.shape)}`);
    }
    if (x.rank === 2) return { xs: x.unsqueeze(1), batched: false };
    return { xs: this.batchFirst ? x.transpose(0, 1) : x, batched: true };
  }

  /** The numLayers·directions initial states [B, size] (index layer·directions + direction, as PyTorch's h_n). */
  protected initialState(h: Tensor | undefined, B: number, size: number, batched: boolean, op: string, what: string): Tensor[] {
    const N = this.numLayers * this.directions;
    if (!h) return Array.from({ length: N }, () => ops.zeros([B, size]));
    const want = batched ? `[${N}, ${B}, ${size}]` : `[${N}, ${size}]`;
    if (h.rank !== (batched ? 3 : 2)) throw new Error(`${op}: ${what} must be ${want}, got ${shapeStr(h.shape)}`);
    const hs = batched ? h : h.unsqueeze(1);
    if (hs.shape[0] !== N || hs.shape[1] !== B || hs.shape[2] !== size) {
      throw new Error(`${op}: ${what} must be ${want}, got ${shapeStr(h.shape)}`);
    }
    return Array.from({ length: N }, (_, k) => hs.slice(0, k, k + 1).reshape(B, size));
  }

  /**
   * Runs every layer: `cell(l, d, xs, k)` runs direction d of layer l over the
   * time-major input xs [T, B, F] from the initial states at index k and returns
   * its outputs, one [B, outSize] per time step in time order. A layer's output
   * is its directions' outputs side by side, [T, B, directions·outSize]; dropout
   * between layers in training mode.
   */
  protected layers(xs: Tensor, cell: (l: number, d: number, xs: Tensor, k: number) => Tensor[]): Tensor {
    const D = this.directions;
    let y = xs;
    for (let l = 0; l < this.numLayers; l++) {
      const input = l > 0 ? ops.dropout(y, this.dropout, this.training) : y;
      const fwd = ops.stack(cell(l, 0, input, l * D), 0);
      y = D === 1 ? fwd : ops.cat([fwd, ops.stack(cell(l, 1, input, l * D + 1), 0)], 2);
    }
    return y;
  }

  protected finish(y: Tensor, batched: boolean): Tensor {
    if (!batched) return y.reshape(y.shape[0], y.shape[2]);
    return this.batchFirst ? y.transpose(0, 1) : y;
  }

  protected states(hs: Tensor[], batched: boolean): Tensor {
    const s = ops.stack(hs, 0);
    return batched ? s : s.reshape(s.shape[0], s.shape[2]);
  }
}

/**
 * Multi-layer LSTM, as torch.nn.LSTM. forward(x, [h0, c0]?) returns
 * [output, [hn, cn]]: output [seq, batch, D·R] ([batch, seq, D·R] with
 * batchFirst), hn [numLayers·D, batch, R] and cn [numLayers·D, batch, hidden],
 * where D is 2 if bidirectional (else 1) and R is projSize if set (else hidden).
 * Unbatched input [seq, inputSize] gives unbatched outputs and states.
 *
 * @example
 * const lstm = new wg.nn.LSTM(8, 16, { numLayers: 2, batchFirst: true });
 * const [out, [h, c]] = lstm.forward(wg.randn([4, 10, 8]));
 * out.shape; // [4, 10, 16]
 * h.shape; // [2, 4, 16]
 * const bi = new wg.nn.LSTM(8, 16, { bidirectional: true, projSize: 4 });
 * const [y, [hb, cb]] = bi.forward(wg.randn([10, 3, 8]));
 * y.shape; // [10, 3, 8]
 * hb.shape; // [2, 3, 4]
 * cb.shape; // [2, 3, 16]
 */
export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: LSTMOptions = {}) {
    super(inputSize, hiddenSize, 4, opts);
  }
  forward(x: Tensor, state?: [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    const { xs, batched } = this.timeMajor(x, "LSTM");
    const T = xs.shape[0], B = xs.shape[1], H = this.hiddenSize;
    const h0 = this.initialState(state?.[0], B, this.outSize, batched, "LSTM", "h0");
    const c0 = this.initialState(state?.[1], B, H, batched, "LSTM", "c0");
    const hn: Tensor[] = [], cn: Tensor[] = [];
    const y = this.layers(xs, (l, d, input, k) => {
      const { wih, whh, bih, bhh, whr } = this.weights(l, d);
      const xw = ops.linear(input, wih, bih); // [T, B, 4H], one GEMM for the whole sequence
      let h = h0[k], c = c0[k];
      const outputs: Tensor[] = new Array(T);
      for (let s = 0; s < T; s++) {
        const t = d ? T - 1 - s : s;
        const gates = xw.slice(0, t, t + 1).reshape(B, 4 * H).add(ops.linear(h, whh, bhh));
        const i = gates.slice(1, 0, H).sigmoid();
        const f = gates.slice(1, H, 2 * H).sigmoid();
        const g = gates.slice(1, 2 * H, 3 * H).tanh();
        const o = gates.slice(1, 3 * H, 4 * H).sigmoid();
        c = f.mul(c).add(i.mul(g));
        h = o.mul(c.tanh());
        if (whr) h = ops.linear(h, whr);
        outputs[t] = h;
      }
      hn[k] = h;
      cn[k] = c;
      return outputs;
    });
    return [this.finish(y, batched), [this.states(hn, batched), this.states(cn, batched)]];
  }
}

/**
 * Multi-layer GRU, as torch.nn.GRU: r = σ(W_ir x + b_ir + W_hr h + b_hr),
 * z likewise, n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
 * forward(x, h0?) returns [output, hn]: output [seq, batch, D·hidden]
 * ([batch, seq, D·hidden] with batchFirst), hn [numLayers·D, batch, hidden],
 * where D is 2 if bidirectional (else 1).
 *
 * @example
 * const gru = new wg.nn.GRU(8, 16);
 * const [out, h] = gru.forward(wg.randn([10, 4, 8]));
 * out.shape; // [10, 4, 16]
 * h.shape; // [1, 4, 16]
 * const bi = new wg.nn.GRU(8, 16, { numLayers: 2, bidirectional: true, batchFirst: true });
 * const [y, hb] = bi.forward(wg.randn([4, 10, 8]));
 * y.shape; // [4, 10, 32]
 * hb.shape; // [4, 4, 16]
 */
export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super(inputSize, hiddenSize, 3, opts);
  }
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] {
    const { xs, batched } = this.timeMajor(x, "GRU");
    const T = xs.shape[0], B = xs.shape[1], H = this.hiddenSize;
    const hInit = this.initialState(h0, B, H, batched, "GRU", "h0");
    const hn: Tensor[] = [];
    const y = this.layers(xs, (l, d, input, k) => {
      const { wih, whh, bih, bhh } = this.weights(l, d);
      const xw = ops.linear(input, wih, bih);
      let h = hInit[k];
      const outputs: Tensor[] = new Array(T);
      for (let s = 0; s < T; s++) {
        const t = d ? T - 1 - s : s;
        const gx = xw.slice(0, t, t + 1).reshape(B, 3 * H);
        const gh = ops.linear(h, whh, bhh);
        const r = gx.slice(1, 0, H).add(gh.slice(1, 0, H)).sigmoid();
        const z = gx.slice(1, H, 2 * H).add(gh.slice(1, H, 2 * H)).sigmoid();
        const n = gx.slice(1, 2 * H, 3 * H).add(r.mul(gh.slice(1, 2 * H, 3 * H))).tanh();
        h = n.add(z.mul(h.sub(n)));
        outputs[t] = h;
      }
      hn[k] = h;
      return outputs;
    });
    return [this.finish(y, batched), this.states(hn, batched)];
  }
}
