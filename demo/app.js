// The demo page: a drawing pad, the controls, the live plot, and the worker
// (demo/worker.js) that owns the engine. The page never imports webgrad
// itself: all tensors live in the worker, so the page stays responsive while
// it trains. window.demo holds the state test/e2e/demo.test.ts reads.

import { toMnist, inkOf } from "./preprocess.js";
import { drawPlot } from "./plot.js";
import "./tabs.js";

const $ = (id) => document.getElementById(id);
const state = (window.demo = Object.assign(window.demo ?? {}, {
  ready: false, backend: "wasm", info: null, training: false, step: 0,
  history: { loss: [], accuracy: [], steps: 0 }, accuracy: null, prediction: null, probs: null,
  saved: null, restored: null, errors: [], gpu: { available: false, reason: "not checked yet" }, input: null,
}));
let worker = null;

function status(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "err" : "";
  if (error) state.errors.push(text);
}

function setBusy(busy) {
  state.training = busy;
  $("train").disabled = busy || !state.ready;
  $("stop").disabled = !busy;
  for (const id of ["reset", "save", "restore", "backend-wasm"]) $(id).disabled = busy || !state.ready;
  $("backend-webgpu").disabled = busy || !state.ready || !state.gpu.available;
}

// ---- the worker: one per backend -------------------------------------------------------------
const waiters = new Map(); // message type → resolve, for the one-off replies

function startWorker(backend) {
  worker?.terminate();
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = ({ data: m }) => onMessage(m);
  worker.onerror = (e) => status(`worker failed: ${e.message ?? "could not load (see the console)"}`, true);
  state.ready = false;
  setBusy(false);
  const threads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2)) : 1;
  worker.postMessage({ type: "init", backend, threads, seed: 0 });
  return reply("ready");
}

function reply(type) {
  return new Promise((resolve) => waiters.set(type, resolve));
}

function onMessage(m) {
  const w = waiters.get(m.type);
  if (w) { waiters.delete(m.type); w(m); }
  switch (m.type) {
    case "ready":
      state.ready = true;
      state.info = m.info;
      state.backend = m.info.backend;
      status(`${m.info.summary}; ${m.count.toLocaleString()} digits loaded, ${m.held.toLocaleString()} held out` +
        (globalThis.crossOriginIsolated ? "" : " (not cross-origin isolated: one thread)"));
      setBusy(false);
      break;
    case "progress":
      state.step = m.step;
      state.history.loss.push([m.step, m.loss]);
      if (m.accuracy !== undefined) showAccuracy(m.step, m.accuracy);
      status(`training on ${state.backend}: epoch ${m.epoch.toFixed(2)} of ${m.epochs}, loss ${m.loss.toFixed(3)}, ` +
        `${Math.round(m.samplesPerSec).toLocaleString()} digits/s`);
      drawPlot($("plot"), state.history);
      break;
    case "trained":
      state.step = m.step;
      showAccuracy(m.step, m.accuracy);
      status(`${m.stopped ? "stopped" : "trained"} after ${m.step} steps in ${m.seconds.toFixed(1)} s: ` +
        `${(100 * m.accuracy).toFixed(2)}% of the held-out digits right`);
      setBusy(false);
      predict();
      break;
    case "prediction":
      if (m.id === predictId) showPrediction(m.probs);
      predicting = false;
      if (predictAgain) { predictAgain = false; predict(); }
      break;
    case "saved":
      state.saved = m;
      status(`saved the weights after step ${m.step} to ${m.path} (${storeName(m.store)})`);
      break;
    case "restored":
      state.restored = m;
      state.step = m.step;
      showAccuracy(m.step, m.accuracy);
      status(`restored the weights of step ${m.step} from ${m.path} (${storeName(m.store)}): ${(100 * m.accuracy).toFixed(2)}% held out`);
      predict();
      break;
    case "error":
      for (const [t, resolve] of waiters) { waiters.delete(t); resolve(m); } // whoever waits hears of it
      predicting = false;
      status(`${m.during ? m.during + ": " : ""}${m.message}`, true);
      setBusy(false);
      state.ready = true;
      break;
  }
}

const storeName = (s) => (s === "opfs" ? "the origin private file system" : s === "indexeddb" ? "IndexedDB" : s);

function showAccuracy(step, acc) {
  state.accuracy = acc;
  const last = state.history.accuracy.at(-1);
  if (!last || last[0] !== step) state.history.accuracy.push([step, acc]);
  $("accuracy").textContent = `held-out accuracy: ${(100 * acc).toFixed(2)}% (step ${step})`;
  drawPlot($("plot"), state.history);
}

// ---- the drawing pad -----------------------------------------------------------------------
const pad = $("pad"), ctx = pad.getContext("2d", { willReadFrequently: true });
function clearPad() {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, pad.width, pad.height);
  state.input = null;
  state.prediction = null;
  $("prediction").textContent = "–";
  $("bars").innerHTML = "";
  $("preview").getContext("2d").clearRect(0, 0, 28, 28);
}
clearPad();
ctx.lineCap = ctx.lineJoin = "round";
ctx.strokeStyle = "#fff";
ctx.lineWidth = 20; // about MNIST's stroke once 200-odd pixels become 20
let last = null;
const at = (e) => {
  const r = pad.getBoundingClientRect();
  return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
};
pad.addEventListener("pointerdown", (e) => {
  pad.setPointerCapture(e.pointerId);
  last = at(e);
  ctx.beginPath(); ctx.arc(last[0], last[1], ctx.lineWidth / 2, 0, 2 * Math.PI); ctx.fillStyle = "#fff"; ctx.fill();
});
pad.addEventListener("pointermove", (e) => {
  if (!last) return;
  const p = at(e);
  ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...p); ctx.stroke();
  last = p;
  predict();
});
const end = () => { if (last) { last = null; predict(); } };
pad.addEventListener("pointerup", end);
pad.addEventListener("pointercancel", end);
$("clear").onclick = clearPad;

// one prediction in flight at a time; strokes made meanwhile ask for one more
let predicting = false, predictAgain = false, predictId = 0;
function predict() {
  if (!state.ready || !worker) return;
  const x = toMnist(inkOf(ctx.getImageData(0, 0, pad.width, pad.height).data), pad.width, pad.height);
  if (!x) return;
  state.input = x;
  const img = new ImageData(28, 28);
  for (let i = 0; i < 784; i++) { const v = Math.round(x[i] * 255); img.data.set([v, v, v, 255], i * 4); }
  $("preview").getContext("2d").putImageData(img, 0, 0);
  if (predicting) { predictAgain = true; return; }
  predicting = true;
  worker.postMessage({ type: "predict", pixels: x, id: ++predictId });
}

function showPrediction(probs) {
  let best = 0;
  probs.forEach((p, i) => { if (p > probs[best]) best = i; });
  state.prediction = best;
  state.probs = probs;
  $("prediction").textContent = String(best);
  $("bars").innerHTML = probs.map((p, i) =>
    `<span>${i}</span><div class="bar" style="width:${(160 * p).toFixed(1)}px"></div><span>${(100 * p).toFixed(1)}%</span>`).join("");
}

// ---- controls ------------------------------------------------------------------------------
$("train").onclick = () => {
  const epochs = Math.max(1, Math.min(100, Number($("epochs").value) || 10));
  state.history.steps = state.step + epochs * Math.ceil(8000 / 64);
  setBusy(true);
  status(`training on ${state.backend}…`);
  worker.postMessage({ type: "train", epochs, augment: $("augment").checked });
};
$("stop").onclick = () => worker.postMessage({ type: "stop" });
$("save").onclick = () => worker.postMessage({ type: "save", store: $("store").value });
$("restore").onclick = () => worker.postMessage({ type: "restore", store: $("store").value });
$("reset").onclick = async () => {
  state.history = { loss: [], accuracy: [], steps: 0 };
  state.accuracy = null;
  state.step = 0;
  $("accuracy").textContent = "held-out accuracy: –";
  drawPlot($("plot"), state.history);
  await startWorker(state.backend);
  predict();
};

/** Switching backends: a new worker on the other backend, handed the current weights. */
async function switchBackend(backend) {
  if (backend === state.backend || !worker) return;
  status(`switching to ${backend}…`);
  state.ready = false;
  setBusy(false);
  worker.postMessage({ type: "getWeights" });
  const { weights, step } = await reply("weights");
  const r = await startWorker(backend);
  if (r.type === "error") { // back to wasm, with the weights; the error stays on screen
    const message = r.message;
    await startWorker("wasm");
    $("backend-wasm").checked = true;
    status(`${backend} failed to start (${message}); back on wasm`, true);
    backend = "wasm";
  }
  worker.postMessage({ type: "setWeights", weights, step });
  await reply("weightsSet");
  predict();
}
for (const id of ["backend-wasm", "backend-webgpu"]) $(id).onchange = (e) => e.target.checked && switchBackend(e.target.value);

/** WebGPU is offered only when navigator.gpu hands out an adapter; otherwise the page says why. */
async function checkGpu() {
  if (!navigator.gpu) return { available: false, reason: "WebGPU is not available in this browser (no navigator.gpu): the demo runs on wasm. Chrome and Edge 113+ have it; elsewhere it may sit behind a flag." };
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { available: false, reason: "navigator.gpu gave no adapter (no usable GPU, or the browser blocks this one): the demo runs on wasm." };
    const i = adapter.info ?? {};
    return { available: true, reason: `WebGPU adapter: ${[i.vendor, i.architecture, i.description].filter(Boolean).join(" ") || "available"}` };
  } catch (e) {
    return { available: false, reason: `navigator.gpu.requestAdapter() failed (${e.message}): the demo runs on wasm.` };
  }
}

drawPlot($("plot"), state.history);
state.gpu = await checkGpu();
$("gpu-note").textContent = state.gpu.reason;
await startWorker("wasm");
