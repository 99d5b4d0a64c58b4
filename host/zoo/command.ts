// The contract between the CLI (host/cli.ts) and a zoo entry: each entry's
// module exports `cli: ZooCommand`, so adding an entry touches no other file.

/** Training progress for bars and log lines: after every step, and `done` at an epoch's end. */
export interface ProgressEvent {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  samplesPerSec: number;
  done?: boolean;
  testAccuracy?: number;
}

/** A progress sink: a bar on terminals, a log line per epoch elsewhere; stop() clears the bar. */
export type Progress = ((p: ProgressEvent) => void) & { stop(): void };

/** What the CLI hands an entry: the parsed options and a few helpers. */
export interface CliContext {
  /** The verb the user typed: "train", "eval", "generate", "bench" or "finetune". */
  verb: string;
  /** Every parsed option, the shared ones and the entry's own. */
  values: Record<string, string | boolean | undefined>;
  /** Parses a non-negative number option (undefined when absent), with a clear error otherwise. */
  num(v: unknown, name: string): number | undefined;
  epochs?: number;
  /** `--batch-size N`: training samples per step (undefined: the recipe's). */
  batchSize?: number;
  seed?: number;
  /** A fresh progress sink. */
  progress(): Promise<Progress>;
  log(line: string): void;
  /** The engine's summary line (backend, kernels, threads), for `bench`. */
  engine?: string;
}

/** One zoo entry's command line. */
export interface ZooCommand {
  /** One line for `webgrad --help`. */
  summary: string;
  /** The verbs it answers, e.g. ["train"] or ["train", "generate"]. */
  verbs: string[];
  /** Where `train` writes when --weights does not say, when that is not `<entry>.safetensors` (the llama entry writes a folder). */
  weights?: string;
  /** Its own options, beyond the shared ones (--epochs, --batch-size, --threads, --isa, --backend, --seed, --weights, --bench-steps). */
  options?: Record<string, { type: "string" | "boolean"; help: string }>;
  /** Runs the verb; resolves to the exit code (0 when omitted). */
  run(ctx: CliContext): Promise<number | void>;
}
