// How a tensor prints (console.log, String(t)): PyTorch's layout, from
// torch/_tensor_str.py, so output reads the same as the programs the seeds
// come from. One formatter for the whole tensor (every element has the same
// width): integers-valued floats print as `1.`, others with 4 decimals, and
// scientific notation when the magnitudes span more than 1000× or leave
// [1e-4, 1e8]. Over 1000 elements, each dimension shows its first and last 3
// entries around `...`. Lines wrap at 80 columns. Unlike PyTorch, shape and
// dtype are always shown (a JavaScript console has no other quick way to see
// them), and so are requiresGrad and the op that made a tensor on the tape.

/** PyTorch's print options: summarise above `threshold` elements, `edgeItems` each side, `lineWidth` columns, `precision` decimals. */
export const printOptions = { threshold: 1000, edgeItems: 3, lineWidth: 80, precision: 4 };

/** What printing needs of a tensor (kept structural so this file imports nothing). */
export interface Printable {
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly size: number;
  readonly requiresGrad: boolean;
  readonly backend: string;
  readonly isReleased: boolean;
  /** @internal */ readonly _node: { name: string } | null;
  view(): ArrayLike<number>;
}

/** Python's `{:.Ne}`: a two-digit exponent at least (1.0000e+00). */
function sci(v: number, precision: number): string {
  return v.toExponential(precision).replace(/e([+-])(\d)$/, "e$10$2");
}

function nonFinite(v: number): string | null {
  return Number.isNaN(v) ? "nan" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : null;
}

/** PyTorch's _Formatter: picks int, fixed or scientific mode and one width from the values shown. */
class Formatter {
  intMode = true;
  sciMode = false;
  width = 1;
  constructor(values: number[], readonly floating: boolean, readonly precision: number) {
    if (!floating) {
      for (const v of values) this.width = Math.max(this.width, String(v).length);
      return;
    }
    const finite = values.filter((v) => Number.isFinite(v) && v !== 0);
    if (!finite.length) return;
    const abs = finite.map(Math.abs);
    const min = Math.min(...abs), max = Math.max(...abs);
    this.intMode = finite.every((v) => v === Math.ceil(v));
    const spread = max / min > 1000 || max > 1e8;
    this.sciMode = this.intMode ? spread : spread || min < 1e-4;
    for (const v of finite) {
      const s = this.sciMode ? sci(v, precision) : this.intMode ? v.toFixed(0) + "." : v.toFixed(precision);
      this.width = Math.max(this.width, s.length);
    }
  }
  format(v: number): string {
    let s: string;
    if (!this.floating) s = String(v);
    else {
      s = nonFinite(v) ?? (this.sciMode ? sci(v, this.precision) : this.intMode ? v.toFixed(0) + "." : v.toFixed(this.precision));
      if (Object.is(v, -0)) s = "-" + s; // toFixed drops the sign of -0; PyTorch keeps it
    }
    return s.padStart(this.width);
  }
}

/**
 * The tensor's PyTorch-style text.
 * @example formatTensor(wg.tensor([[1, 2], [3, 4]])); // "tensor([[1., 2.],\n        [3., 4.]], shape=[2, 2], dtype=float32)"
 */
export function formatTensor(t: Printable, opts = printOptions): string {
  const prefix = "tensor(", indent = prefix.length;
  const suffixes = [`shape=[${t.shape.join(", ")}]`, `dtype=${t.dtype}`];
  if (t.backend !== "wasm") suffixes.push(`backend=${t.backend}`);
  if (t._node) suffixes.push(`gradFn=<${t._node.name}>`);
  else if (t.requiresGrad) suffixes.push("requiresGrad=true");
  let body: string;
  if (t.isReleased) body = "<released>";
  else if (t.backend !== "wasm") body = "<on the GPU: await t.data() or await t.to(\"wasm\") to read it>";
  else if (t.size === 0) body = "[]";
  else {
    try {
      body = formatValues(t.view(), t.shape, t.dtype === "float32", opts, indent);
    } catch (e) {
      body = `<unreadable: ${(e as Error).message}>`; // e.g. its backend was shut down: printing must not throw
    }
  }
  return addSuffixes(prefix + body, suffixes, indent, opts.lineWidth);
}

function formatValues(data: ArrayLike<number>, shape: readonly number[], floating: boolean, opts: typeof printOptions, indent: number): string {
  const summarize = data.length > opts.threshold;
  const edge = opts.edgeItems;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  // the indices shown along a dimension of size n; -1 stands for "..."
  const shown = (n: number) => summarize && n > 2 * edge
    ? [...Array.from({ length: edge }, (_, i) => i), -1, ...Array.from({ length: edge }, (_, i) => n - edge + i)]
    : Array.from({ length: n }, (_, i) => i);
  // the formatter sees only the values that are printed (PyTorch's get_summarized_data)
  const values: number[] = [];
  const collect = (d: number, base: number) => {
    if (d === shape.length) return void values.push(data[base]);
    for (const i of shown(shape[d])) if (i >= 0) collect(d + 1, base + i * strides[d]);
  };
  collect(0, 0);
  const f = new Formatter(values, floating, opts.precision);
  if (shape.length === 0) return f.format(data[0]);
  const render = (d: number, base: number, ind: number): string => {
    const idx = shown(shape[d]);
    if (d === shape.length - 1) {
      const items = idx.map((i) => (i < 0 ? " ..." : f.format(data[base + i])));
      const perLine = Math.max(1, Math.floor((opts.lineWidth - ind) / (f.width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(", "));
      return "[" + lines.join(",\n" + " ".repeat(ind + 1)) + "]";
    }
    const rows = idx.map((i) => (i < 0 ? "..." : render(d + 1, base + i * strides[d], ind + 1)));
    return "[" + rows.join("," + "\n".repeat(shape.length - d - 1) + " ".repeat(ind + 1)) + "]";
  };
  return render(0, 0, indent);
}

/** PyTorch's _add_suffixes: ", suffix" on the last line while it fits, else on a new line. */
function addSuffixes(s: string, suffixes: string[], indent: number, lineWidth: number): string {
  const out = [s];
  let last = s.length - s.lastIndexOf("\n") + 1;
  for (const suffix of suffixes) {
    if (last + suffix.length + 2 > lineWidth) {
      out.push(",\n" + " ".repeat(indent) + suffix);
      last = indent + suffix.length;
    } else {
      out.push(", " + suffix);
      last += suffix.length + 2;
    }
  }
  return out.join("") + ")";
}
