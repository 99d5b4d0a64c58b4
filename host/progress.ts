// A progress bar on terminals (cli-progress), nothing elsewhere: fit() and the
// zoo show one while an epoch runs, and print a plain log line per epoch where
// there is no terminal (CI logs, browsers, piped output).
import { nodeImport } from "./backends/node-import.js";

/** One bar; update() after each step, stop() at the end of the epoch. */
export interface ProgressBar {
  update(step: number, fields: Record<string, string | number>): void;
  stop(): void;
}

/** True in Node/Bun/Deno when stdout is a terminal. */
export function isTerminal(): boolean {
  return Boolean((globalThis as any).process?.stdout?.isTTY);
}

/**
 * A terminal bar of `total` steps with the given format (cli-progress tokens:
 * {bar}, {value}, {total} and your fields), or null when stdout is no terminal.
 * @example const bar = await terminalBar(100, "epoch {epoch} |{bar}| {value}/{total} loss {loss}"); bar?.update(1, { epoch: "1/5", loss: "0.5" }); bar?.stop();
 */
export async function terminalBar(total: number, format: string, fields: Record<string, string | number> = {}): Promise<ProgressBar | null> {
  if (!isTerminal()) return null;
  const { SingleBar, Presets } = (await nodeImport<{ default: typeof import("cli-progress") }>("cli-progress")).default;
  const bar = new SingleBar({ format, hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
  bar.start(total, 0, fields);
  return { update: (step, f) => bar.update(step, f), stop: () => bar.stop() };
}
