// einsum, composed of existing ops: each operand's letters are summed out where
// nothing else needs them, then operands are contracted two at a time as one
// batched matmul (permute to [batch, kept, contracted] / [batch, contracted, kept],
// reshape, matmul, reshape back), and the result is permuted to the output's
// order. Its gradient is theirs.

import { Tensor, shapeStr } from "./util.js";
import { sum } from "./reduce.js";
import { permute } from "./shape.js";
import { reshape } from "./view.js";
import { matmul } from "./gemm.js";
import { mul } from "./elementwise.js";
import { eye } from "./creation.js";

interface Term { t: Tensor; labels: string[] }

const isLetter = (c: string) => /^[a-zA-Z]$/.test(c);

/** Sums out the labels of `a` that `keep` does not hold. */
function sumOut(a: Term, keep: Set<string>): Term {
  const dims = a.labels.map((l, i) => (keep.has(l) ? -1 : i)).filter((i) => i >= 0);
  if (!dims.length) return a;
  return { t: sum(a.t, dims), labels: a.labels.filter((l) => keep.has(l)) };
}

/** a's labels permuted to `order` (a permutation of them). */
function arrange(a: Term, order: string[]): Tensor {
  const p = order.map((l) => a.labels.indexOf(l));
  return p.every((v, i) => v === i) ? a.t : permute(a.t, p);
}

/**
 * A label repeated within one operand ("ii->i", "iij->j") takes the diagonal: the
 * operand times an identity mask over the two dims, summed over the second.
 * Differentiable through mul and sum, and only paid for by the forms that use it.
 */
function diagonals(a: Term): Term {
  let { t, labels } = a;
  for (let j = 1; j < labels.length; j++) {
    const i = labels.indexOf(labels[j]);
    if (i === j) continue;
    const n = t.shape[i];
    const maskShape = t.shape.map((_, d) => (d === i || d === j ? n : 1));
    t = sum(mul(t, reshape(eye(n), maskShape)), j);
    labels = labels.filter((_, d) => d !== j);
    j--;
  }
  return { t, labels };
}

const size = (t: Term, ls: string[]) => ls.reduce((n, l) => n * t.t.shape[t.labels.indexOf(l)], 1);

/** Contracts two terms over their shared labels not in `keep`. */
function contract(a: Term, b: Term, keep: Set<string>): Term {
  const inB = new Set(b.labels), inA = new Set(a.labels);
  const batch = a.labels.filter((l) => inB.has(l) && keep.has(l));
  const summed = a.labels.filter((l) => inB.has(l) && !keep.has(l));
  const aOnly = a.labels.filter((l) => !inB.has(l));
  const bOnly = b.labels.filter((l) => !inA.has(l));
  const B = size(a, batch), M = size(a, aOnly), K = size(a, summed), N = size(b, bOnly);
  const at = reshape(arrange(a, [...batch, ...aOnly, ...summed]), [B, M, K]);
  const bt = reshape(arrange(b, [...batch, ...summed, ...bOnly]), [B, K, N]);
  // no contracted label (an outer product, batched or not): a broadcast product
  const c = K === 1 && summed.length === 0 ? mul(reshape(at, [B, M, 1]), reshape(bt, [B, 1, N])) : matmul(at, bt);
  const labels = [...batch, ...aOnly, ...bOnly];
  const shape = [...batch.map((l) => a.t.shape[a.labels.indexOf(l)]), ...aOnly.map((l) => a.t.shape[a.labels.indexOf(l)]), ...bOnly.map((l) => b.t.shape[b.labels.indexOf(l)])];
  return { t: reshape(c, shape), labels };
}

/**
 * Einstein summation over letter-labelled dims (torch.einsum): "ij,jk->ik" (matmul),
 * "bij,bjk->bik" (batched), "ij->ji", "ij->", "i,i->", "i,j->ij", diagonals and traces ("ii->i", "ii");
 * with no "->" the output is the letters used once, in torch's order (A–Z, then a–z). Supported: any number of
 * operands. Not supported (an error names it): "..." (ellipsis) and broadcasting a size-1 dim against a longer one.
 * @example wg.einsum("ij,jk->ik", wg.tensor([[1, 2]]), wg.tensor([[3], [4]])).toArray(); // [[11]]
 * wg.einsum("i,j", wg.tensor([1, 2]), wg.tensor([3, 4])).toArray(); // [[3, 4], [6, 8]]
 * wg.einsum("ij->j", wg.tensor([[1, 2], [3, 4]])).toArray(); // [4, 6]
 * wg.einsum("ii", wg.tensor([[1, 2], [3, 4]])).item(); // 5
 */
export function einsum(equation: string, ...operands: (Tensor | Tensor[])[]): Tensor {
  if (typeof equation !== "string") throw new Error(`einsum: equation must be a string, got ${JSON.stringify(equation) ?? String(equation)}`);
  const ops = (operands.length === 1 && Array.isArray(operands[0]) ? operands[0] : operands) as Tensor[];
  const eq = equation.replace(/\s+/g, "");
  if (eq.includes(".")) throw new Error(`einsum: "${equation}": ellipsis ("...") is not supported; name every dim with a letter`);
  const arrow = eq.indexOf("->");
  const lhs = arrow >= 0 ? eq.slice(0, arrow) : eq;
  const inputs = lhs.split(",").map((s) => [...s]);
  if (inputs.length !== ops.length) throw new Error(`einsum: "${equation}" has ${inputs.length} operand(s), but ${ops.length} tensor(s) were given`);
  const dimOf = new Map<string, number>();
  const count = new Map<string, number>();
  inputs.forEach((ls, k) => {
    const t = ops[k];
    if (!(t instanceof Tensor)) throw new Error(`einsum: operand ${k} is not a Tensor`);
    if (ls.some((c) => !isLetter(c))) throw new Error(`einsum: "${equation}": operand ${k}'s subscripts "${ls.join("")}" must be letters`);
    if (ls.length !== t.rank) throw new Error(`einsum: "${equation}": operand ${k} has ${ls.length} subscripts "${ls.join("")}" but shape ${shapeStr(t.shape)}`);
    ls.forEach((l, i) => {
      const s = t.shape[i];
      const prev = dimOf.get(l);
      if (prev !== undefined && prev !== s) throw new Error(`einsum: "${equation}": subscript ${l} is ${prev} in one operand and ${s} in operand ${k} (shape ${shapeStr(t.shape)}); broadcasting is not supported`);
      dimOf.set(l, s);
      count.set(l, (count.get(l) ?? 0) + 1);
    });
  });
  let output: string[];
  if (arrow >= 0) {
    output = [...eq.slice(arrow + 2)];
    for (const l of output) {
      if (!isLetter(l)) throw new Error(`einsum: "${equation}": output subscript "${l}" is not a letter`);
      if (!dimOf.has(l)) throw new Error(`einsum: "${equation}": output subscript ${l} appears in no operand`);
    }
    if (new Set(output).size !== output.length) throw new Error(`einsum: "${equation}": the output repeats a subscript`);
  } else {
    output = [...count.entries()].filter(([, c]) => c === 1).map(([l]) => l).sort(); // torch's order: A–Z, then a–z
  }
  const terms: Term[] = ops.map((t, k) => diagonals({ t, labels: inputs[k] }));
  // labels still needed after term k: the output's and those of later operands
  const needed = (from: number) => new Set([...output, ...terms.slice(from).flatMap((t) => t.labels)]);
  let acc = sumOut(terms[0], new Set([...output, ...terms.slice(1).flatMap((t) => t.labels)]));
  for (let k = 1; k < terms.length; k++) {
    const later = needed(k + 1);
    const b = sumOut(terms[k], new Set([...later, ...acc.labels]));
    acc = sumOut(acc, new Set([...later, ...b.labels]));
    acc = contract(acc, b, later);
  }
  acc = sumOut(acc, new Set(output));
  return arrange(acc, output);
}
