// The chat tab's engine, in its own module Web Worker (the digits worker is
// left alone): it loads a Hugging Face model folder the person picked with
// wg.models.loadPretrained, renders the conversation with the folder's chat
// template and streams the reply token by token, so the page stays responsive.
//
// Messages in:  init {backend, threads} · load {files: {path: File}} or {handle: FileSystemDirectoryHandle}
//               · chat {messages, maxNewTokens, temperature, topK, topP} · stop
// Messages out: ready {info} · loaded {summary, config} · token {text, id} · done {tokens, seconds, tokensPerSec, text}
//               · error {message, during}

import * as wg from "../dist/host/index.js";
import { serveMessages } from "./serve-messages.js";

let info = null, loaded = null, stopping = false;
const post = (type, body = {}) => self.postMessage({ type, ...body });

/**
 * The folder's files by name. An <input webkitdirectory> names each file
 * "folder/sub/name": the model's files are those directly inside the folder
 * picked (the shortest common prefix is dropped).
 */
function filesByName(files) {
  const out = {};
  for (const [path, file] of Object.entries(files)) out[path.split("/").slice(1).join("/") || path] = file;
  return out;
}

/** The prompt's token ids: the folder's chat template when it has one, else a plain transcript. */
function promptIds(tokenizer, messages) {
  if (tokenizer.chatTemplate) return tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true, tokenize: true });
  return tokenizer.encode(messages.map((m) => `${m.role}: ${m.content}\n`).join("") + "assistant:");
}

async function chat({ messages, maxNewTokens = 64, temperature = 0.7, topK = 40, topP = 0.95 }) {
  if (!loaded) throw new Error("open a model folder first");
  const { model, tokenizer } = loaded;
  const ids = promptIds(tokenizer, messages);
  const out = [];
  let shown = "";
  stopping = false;
  const t0 = performance.now();
  for await (const id of model.stream(ids, { maxNewTokens, temperature, topK, topP, seed: Date.now() % 1e9 })) {
    out.push(id);
    // decode the whole reply each time: a character may span several tokens
    const text = tokenizer.decode(out, { skipSpecialTokens: true });
    if (text.length > shown.length && !text.endsWith("\uFFFD")) {
      post("token", { text: text.slice(shown.length), id });
      shown = text;
    }
    if (stopping) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  post("done", { tokens: out.length, seconds, tokensPerSec: out.length / seconds, text: tokenizer.decode(out, { skipSpecialTokens: true }), stopped: stopping });
}

async function handle(msg) {
  switch (msg.type) {
    case "init":
      info = await wg.init({ backend: msg.backend ?? "wasm", threads: msg.threads, verbose: false });
      return post("ready", { info: { backend: info.backend, threads: info.threads, summary: info.summary } });
    case "load": {
      loaded?.model.dispose?.();
      loaded = null;
      const source = msg.handle ?? filesByName(msg.files);
      const t0 = performance.now();
      loaded = await wg.models.loadPretrained(source, msg.dtype ? { dtype: msg.dtype } : {});
      const c = loaded.config;
      const params = loaded.model.parameters().reduce((a, p) => a + p.size, 0);
      const arch = (c.architectures ?? [c.model_type])[0];
      return post("loaded", {
        summary: `${arch}: ${c.num_hidden_layers} layers, hidden ${c.hidden_size}, vocab ${c.vocab_size}, ${(params / 1e6).toFixed(2)}M parameters, loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${info.backend}`,
        config: { architecture: arch, layers: c.num_hidden_layers, hidden: c.hidden_size, vocab: c.vocab_size, params },
      });
    }
    case "chat":
      return chat(msg);
    case "stop":
      stopping = true;
      return;
    default:
      throw new Error(`unknown message ${JSON.stringify(msg.type)}`);
  }
}

// one message at a time, in order, except `stop`, which must reach a running chat
serveMessages(handle, post, (msg) => msg.type === "stop");
