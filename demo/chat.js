// The chat tab: pick a Hugging Face model folder (config.json,
// model.safetensors, tokenizer.json, …) from this machine and chat with it.
// The model runs in demo/chat-worker.js; nothing is uploaded anywhere.
// window.demo.chat holds the state test/e2e/demo.test.ts reads.

const $ = (id) => document.getElementById(id);
const chat = ((window.demo ??= {}).chat = { started: false, ready: false, loaded: null, replies: [], streaming: false, tokens: 0, errors: [], last: null });
let worker = null;
const messages = [];

function status(text, error = false) {
  $("chat-status").textContent = text;
  $("chat-status").className = error ? "err" : "";
  if (error) chat.errors.push(text);
}

function setBusy() {
  const idle = chat.ready && !chat.streaming;
  $("chat-send").disabled = !idle || !chat.loaded;
  $("chat-stop").disabled = !chat.streaming;
  $("model-folder").disabled = !idle;
  $("model-pick").disabled = !idle || !("showDirectoryPicker" in window);
}

function bubble(role, text) {
  const div = document.createElement("div");
  div.className = `msg ${role}`;
  div.textContent = text;
  $("chat-log").append(div);
  $("chat-log").scrollTop = $("chat-log").scrollHeight;
  return div;
}

let current = null;
function onMessage(m) {
  switch (m.type) {
    case "ready":
      chat.ready = true;
      status(`${m.info.summary}: open a model folder (config.json, model.safetensors, tokenizer.json)`);
      break;
    case "loaded":
      chat.loaded = m.config;
      messages.length = 0;
      $("chat-log").textContent = "";
      status(m.summary);
      break;
    case "token":
      chat.tokens++;
      current.textContent += m.text;
      $("chat-log").scrollTop = $("chat-log").scrollHeight;
      break;
    case "done":
      chat.streaming = false;
      chat.last = m;
      chat.replies.push(m.text);
      messages.push({ role: "assistant", content: m.text });
      status(`${m.stopped ? "stopped after" : "replied with"} ${m.tokens} tokens in ${m.seconds.toFixed(1)} s (${m.tokensPerSec.toFixed(1)} tokens/s)`);
      break;
    case "error":
      chat.streaming = false;
      status(`${m.during ? m.during + ": " : ""}${m.message}`, true);
      break;
  }
  setBusy();
}

/** Starts the chat worker the first time the tab is opened (the digits tab never pays for it). */
export function startChat() {
  if (chat.started) return;
  chat.started = true;
  worker = new Worker(new URL("./chat-worker.js", import.meta.url), { type: "module" });
  worker.onmessage = ({ data }) => onMessage(data);
  worker.onerror = (e) => status(`chat worker failed: ${e.message ?? "could not load (see the console)"}`, true);
  const threads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2)) : 1;
  const backend = $("chat-webgpu").checked ? "webgpu" : "wasm";
  worker.postMessage({ type: "init", backend, threads });
  status("starting the engine…");
  setBusy();
}

function load(body) {
  chat.loaded = null;
  status("loading the model…");
  worker.postMessage({ type: "load", dtype: $("chat-int8").checked ? "int8" : undefined, ...body });
  setBusy();
}

$("model-folder").onchange = (e) => {
  const files = {};
  for (const f of e.target.files) files[f.webkitRelativePath || f.name] = f;
  if (Object.keys(files).length) load({ files });
};
$("model-pick").onclick = async () => {
  try {
    load({ handle: await window.showDirectoryPicker({ mode: "read" }) });
  } catch (e) {
    if (e.name !== "AbortError") status(`could not open the folder: ${e.message}`, true);
  }
};
$("chat-form").onsubmit = (e) => {
  e.preventDefault();
  const text = $("chat-input").value.trim();
  if (!text || !chat.loaded || chat.streaming) return;
  $("chat-input").value = "";
  messages.push({ role: "user", content: text });
  bubble("user", text);
  current = bubble("assistant", "");
  chat.streaming = true;
  chat.tokens = 0;
  status("thinking…");
  worker.postMessage({
    type: "chat", messages: [...messages],
    maxNewTokens: Number($("chat-max").value) || 64, temperature: Number($("chat-temperature").value), topK: 40, topP: 0.95,
  });
  setBusy();
};
$("chat-stop").onclick = () => worker?.postMessage({ type: "stop" });
$("chat-webgpu").onchange = () => { // a new engine on the other backend; the folder is picked again
  worker?.terminate();
  Object.assign(chat, { started: false, ready: false, loaded: null });
  startChat();
};
setBusy();
$("chat-input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("chat-form").requestSubmit(); }
});
