// loadPretrained in a browser page: the tiny-llama fixture folder (helper hm's
// scripts/torch-fixtures.py weights, the tokenizer of scripts/llm-fixture-tokenizer.mjs)
// from a URL base, from the origin private file system (a FileSystemDirectoryHandle)
// and from File objects (what an <input webkitdirectory> gives); the page reports
// each one's logits error against PyTorch's and its greedy continuation.
// Used by test/e2e/llm-browser.test.ts; plain JS on purpose (it is not compiled).
const FILES = ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"];

async function run() {
  const wg = await import("../../dist/host/index.js");
  await wg.init({ threads: 1, verbose: false });
  const base = new URL("../fixtures/llm/tiny-llama/", import.meta.url).href;
  const ref = await (await fetch(base + "reference.json")).json();
  const b = Uint8Array.from(atob(ref.logits.b64), (c) => c.charCodeAt(0));
  const want = new Float32Array(b.buffer);
  const ids = wg.tensor(Int32Array.from(ref.ids.flat()), { dtype: "int32", shape: [ref.ids.length, ref.ids[0].length] });
  const check = async ({ model, tokenizer }) => {
    const got = await wg.noGrad(() => model.forward(ids)).data();
    let maxErr = 0;
    for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
    const greedy = await model.generate(ref.prompt, { maxNewTokens: ref.greedy.length, stop: [], temperature: 0 });
    const chat = tokenizer.decode(tokenizer.applyChatTemplate([{ role: "user", content: "hi!" }], { tokenize: true }));
    model.dispose();
    return { maxErr, greedy, chat };
  };
  const out = { refGreedy: ref.greedy, refRange: want.reduce((m, v) => Math.max(m, Math.abs(v)), 0) };
  out.url = await check(await wg.models.loadPretrained(base));
  // OPFS: the files written into a folder of the origin private file system, read back through its handle
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle("tiny-llama", { create: true });
  const blobs = {};
  for (const f of FILES) {
    const bytes = await (await fetch(base + f)).arrayBuffer();
    const w = await (await dir.getFileHandle(f, { create: true })).createWritable();
    await w.write(bytes);
    await w.close();
    blobs[f] = new File([bytes], f);
  }
  out.opfs = await check(await wg.models.loadPretrained(dir));
  out.opfsInt8 = await check(await wg.models.loadPretrained(dir, { dtype: "int8" }));
  out.files = await check(await wg.models.loadPretrained(Object.values(blobs).map((f) => Object.defineProperty(f, "webkitRelativePath", { value: `tiny-llama/${f.name}` }))));
  await root.removeEntry("tiny-llama", { recursive: true });
  return out;
}

run().then((r) => { window.__llmResult = r; }, (e) => { window.__llmResult = { error: e?.stack ?? String(e) }; });
