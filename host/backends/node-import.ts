// Imports a Node built-in (node:fs, node:worker_threads, …) or a Node-only
// package (pngjs, cli-progress) from code that browsers never reach. The
// specifier goes through a variable on purpose: bundlers resolve only literal
// import() specifiers, so a browser bundle (esbuild --platform=browser, Vite)
// neither fails on nor polyfills what it can never run. Node, Deno and Bun
// resolve it at run time as a plain import() (a bare package name resolves
// from this package's own node_modules, as a literal import() would).

/**
 * @example
 * const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
 */
export function nodeImport<T = any>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
}
