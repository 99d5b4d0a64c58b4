// The demo page (`npm run demo`: scripts/demo.mjs serving demo/) in headless
// Chromium, driven like a person would: train S1 in the page's worker to at
// least 95% on the 2,000 held-out digits, draw digits with the mouse and read
// the class the page shows, save the weights in the browser (the origin
// private file system across a reload, IndexedDB across "New weights") and
// restore them, switch to WebGPU when Chromium's software adapter is there
// (or see the page say there is none). A screenshot goes to
// test-artifacts/demo.png (gitignored) for a person to look at.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BrowserContext, Page } from "playwright-core";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "test-artifacts");
const TRAIN_MS = 120_000; // measured: about 20 s on 2 cores for 10 epochs; the issue asks for under a minute

let server: { origin: string; close: () => Promise<void> } | null = null;
let context: BrowserContext | null = null;
let page: Page;
const log: string[] = [];
const userDataDir = mkdtempSync(join(tmpdir(), "webgrad-demo-chromium-"));
const demo = <T>(fn: string): Promise<T> => page.evaluate(`window.demo && (${fn})`) as Promise<T>;

test.before(async () => {
  if (!existsSync(join(ROOT, "dist", "host", "index.js"))) throw new Error("dist/host/index.js is missing: run `npm run build` first");
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  const pw = await import("playwright-core");
  const { startDemoServer } = await import(pathToFileURL(join(ROOT, "scripts", "demo.mjs")).href);
  server = await startDemoServer({ port: 0 });
  context = await pw.chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1040, height: 760 },
    // SwiftShader gives headless Chromium a (slow, software) WebGPU adapter where Debian's chromium ships it
    args: ["--no-sandbox", "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=swiftshader",
      "--use-webgpu-adapter=swiftshader", "--disable-vulkan-surface", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
    timeout: 60_000,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => log.push(`[${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => log.push(`[pageerror] ${e.message}`));
  page.on("response", (r) => r.status() >= 400 && log.push(`[http ${r.status()}] ${r.url()}`));
  page.on("requestfailed", (r) => log.push(`[requestfailed] ${r.url()} ${r.failure()?.errorText}`));
});

test.after(async () => {
  await context?.close().catch(() => {});
  await server?.close();
  rmSync(userDataDir, { recursive: true, force: true });
});

/** Waits for `cond` (a page expression) or fails with the page's status line, errors and log. */
async function until(cond: string, timeout = 30_000): Promise<void> {
  try {
    await page.waitForFunction(`window.demo && (${cond})`, undefined, { timeout, polling: 100 });
  } catch (e) {
    const s = await page.evaluate(`({ status: document.getElementById("status")?.textContent, errors: window.demo?.errors })`).catch(() => null);
    throw new Error(`waiting for ${cond}: ${(e as Error).message.split("\n")[0]}\npage: ${JSON.stringify(s)}\nlog:\n${log.join("\n")}`);
  }
}

/** Draws polylines on the pad with the mouse, in the pad's own 280×280 coordinates. */
async function draw(strokes: [number, number][][]): Promise<void> {
  await page.click("#clear");
  // clicking a control lower down may have scrolled the page: the strokes go where the pad is now
  await page.locator("#pad").scrollIntoViewIfNeeded();
  const box = (await page.locator("#pad").boundingBox())!;
  const sx = box.width / 280, sy = box.height / 280;
  for (const stroke of strokes) {
    await page.mouse.move(box.x + stroke[0][0] * sx, box.y + stroke[0][1] * sy);
    await page.mouse.down();
    for (const [x, y] of stroke.slice(1)) await page.mouse.move(box.x + x * sx, box.y + y * sy, { steps: 8 });
    await page.mouse.up();
  }
}

/** The class the page shows once its worker answered for the finished drawing. */
async function predicted(): Promise<number> {
  await page.waitForTimeout(50);
  await until("window.demo.prediction !== null");
  // the last stroke's answer: wait until nothing is in flight
  await page.waitForFunction(`!document.getElementById("prediction").textContent.includes("–")`);
  await page.waitForTimeout(300);
  const shown = Number(await page.textContent("#prediction"));
  assert.is(shown, await demo<number>("window.demo.prediction"), "the digit on screen is the page's prediction");
  return shown;
}

const ONE: [number, number][][] = [[[150, 45], [140, 235]]];
const SEVEN: [number, number][][] = [[[75, 55], [205, 55], [120, 235]]];
const ZERO: [number, number][][] = [Array.from({ length: 25 }, (_, i) => [140 + 62 * Math.sin((i / 24) * 2 * Math.PI), 140 - 95 * Math.cos((i / 24) * 2 * Math.PI)] as [number, number])];

let trainedAccuracy = 0;

test("the page loads cross-origin isolated, with the digits and the wasm backend in a worker", async () => {
  await page.goto(`${server!.origin}/`);
  await until("window.demo.ready", 60_000);
  const s = await demo<any>("({ info: window.demo.info, coi: window.crossOriginIsolated })");
  console.log(`  ${s.info.summary}`);
  assert.is(s.coi, true, "COOP/COEP headers make the page cross-origin isolated");
  assert.is(s.info.backend, "wasm");
  const cores = await page.evaluate("navigator.hardwareConcurrency") as number;
  assert.ok(s.info.threads >= Math.min(2, cores), `the worker's engine runs threads on ${cores} cores (${s.info.summary})`);
  assert.match(await page.textContent("#status") ?? "", /10,000 digits loaded, 2,000 held out/);
});

test("Train reaches at least 95% on the held-out digits, with a live plot of loss and accuracy", async () => {
  const t0 = performance.now();
  await page.click("#train");
  await until("window.demo.training === true");
  await until("window.demo.history.loss.length >= 3");
  const midway = await demo<number>("window.demo.history.loss.length");
  await until("window.demo.training === false", TRAIN_MS);
  const secs = (performance.now() - t0) / 1000;
  const s = await demo<any>("({ acc: window.demo.accuracy, h: window.demo.history, step: window.demo.step, errors: window.demo.errors })");
  console.log(`  trained ${s.step} steps in ${secs.toFixed(1)} s: held-out accuracy ${(100 * s.acc).toFixed(2)}%`);
  assert.equal(s.errors, []);
  assert.is(s.step, 10 * 125, "10 epochs of 8,000 digits in batches of 64");
  assert.ok(s.acc >= 0.95, `held-out accuracy ${s.acc} >= 0.95`);
  assert.ok(s.h.loss.length > midway, "the plot kept growing while training ran");
  assert.ok(s.h.loss[0][1] > 1.0 && s.h.loss.at(-1)[1] < 0.3, `the loss fell: ${s.h.loss[0][1]} → ${s.h.loss.at(-1)[1]}`);
  assert.ok(s.h.accuracy.length >= 10, `accuracy plotted along the way (${s.h.accuracy.length} points)`);
  // the plot is drawn: the canvas holds coloured pixels of both lines
  const colours = await page.evaluate(`(() => {
    const c = document.getElementById("plot"), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let loss = 0, acc = 0;
    for (let i = 0; i < d.length; i += 4) { if (d[i] > 200 && d[i + 2] < 60) loss++; if (d[i + 2] > 150 && d[i] < 60) acc++; }
    return { loss, acc };
  })()`) as { loss: number; acc: number };
  assert.ok(colours.loss > 100 && colours.acc > 100, `both lines are on the plot canvas (${JSON.stringify(colours)})`);
  trainedAccuracy = s.acc;
});

test("drawn digits are preprocessed like MNIST and classified", async () => {
  await draw(ONE);
  assert.is(await predicted(), 1, "a vertical stroke is a 1");
  const x = await demo<number[]>("Array.from(window.demo.input)");
  let mass = 0, mx = 0, my = 0, top = 28, bottom = -1;
  x.forEach((v, i) => {
    mass += v; mx += v * ((i % 28) + 0.5); my += v * (Math.floor(i / 28) + 0.5);
    if (v > 0.05) { top = Math.min(top, Math.floor(i / 28)); bottom = Math.max(bottom, Math.floor(i / 28)); }
  });
  assert.ok(Math.abs(mx / mass - 14) <= 1 && Math.abs(my / mass - 14) <= 1, `centre of mass at (14, 14): (${mx / mass}, ${my / mass})`);
  assert.is(bottom - top + 1, 20, "the longer side scaled to 20 pixels");
  await draw(SEVEN);
  assert.is(await predicted(), 7, "a bar and a diagonal are a 7");
  await draw(ZERO);
  assert.is(await predicted(), 0, "an ellipse is a 0");
  await draw(ONE);
  assert.is(await predicted(), 1);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "demo.png"), fullPage: true });
});

test("weights saved in the origin private file system survive a reload", async () => {
  await page.selectOption("#store", "opfs");
  await page.click("#save");
  await until("window.demo.saved !== null");
  assert.is(await demo<string>("window.demo.saved.store"), "opfs");
  await page.reload();
  await until("window.demo.ready", 60_000);
  assert.is(await demo<number>("window.demo.step"), 0, "a fresh page starts untrained");
  await page.selectOption("#store", "opfs");
  await page.click("#restore");
  await until("window.demo.restored !== null");
  const r = await demo<any>("window.demo.restored");
  assert.is(r.step, 1250, "the step count came back");
  assert.is(r.accuracy, trainedAccuracy, "the restored weights score exactly what the trained ones did");
  await draw(ONE);
  assert.is(await predicted(), 1);
});

test("weights saved in IndexedDB come back after New weights", async () => {
  await page.selectOption("#store", "indexeddb");
  await page.click("#save");
  await until("window.demo.saved?.store === 'indexeddb'");
  await page.click("#reset");
  await until("window.demo.ready && window.demo.step === 0 && window.demo.accuracy === null");
  await page.click("#restore");
  await until("window.demo.restored?.store === 'indexeddb'");
  assert.is(await demo<number>("window.demo.restored.accuracy"), trainedAccuracy);
});

test("WebGPU: used when navigator.gpu gives an adapter, otherwise the page says it has none", async () => {
  const gpu = await demo<{ available: boolean; reason: string }>("window.demo.gpu");
  const note = (await page.textContent("#gpu-note")) ?? "";
  console.log(`  ${gpu.reason}`);
  if (!gpu.available) {
    assert.match(note, /no adapter|not available|failed/, "the page says why there is no WebGPU");
    assert.ok(await page.isDisabled("#backend-webgpu"), "the WebGPU choice is off");
    return;
  }
  await page.check("#backend-webgpu");
  await until("window.demo.ready && window.demo.backend === 'webgpu'", 60_000);
  assert.match((await page.textContent("#status")) ?? "", /webgpu/i);
  await draw(ONE);
  assert.is(await predicted(), 1, "the weights moved to the GPU engine classify the same way");
  // training runs there too (a software adapter is slow: a few steps, then Stop)
  const before = await demo<number>("window.demo.history.loss.length");
  await page.fill("#epochs", "1");
  await page.click("#train");
  await until(`window.demo.history.loss.length >= ${before + 2}`, 60_000);
  await page.click("#stop");
  await until("window.demo.training === false", 60_000);
  const g = await demo<any>("({ errors: window.demo.errors, loss: window.demo.history.loss.at(-1)[1], status: document.getElementById('status').textContent })");
  assert.equal(g.errors, []);
  assert.ok(g.loss < 0.5, `the trained weights went on training on the GPU (loss ${g.loss})`);
  assert.match(g.status, /^stopped after \d+ steps/);
  await page.check("#backend-wasm");
  await until("window.demo.ready && window.demo.backend === 'wasm'", 60_000);
});

// issue 17 item 6: the chat tab opens a model folder the person picks (here the tiny
// Llama fixture, with its tokenizer and chat template) and streams a reply; at
// temperature 0 the reply is the greedy continuation Node computes for the same
// prompt through the same API, token for token.
const CHAT_MODEL = join(ROOT, "test", "fixtures", "llm", "tiny-llama");

test("chat tab: a picked model folder streams a reply, the one Node's greedy decoding gives", async () => {
  await page.click("#tab-chat");
  await until("window.demo.chat.ready", 60_000);
  assert.ok(await page.isHidden("#digits-view") && await page.isVisible("#chat-view"), "the chat tab shows, the digits hide");
  await page.setInputFiles("#model-folder", CHAT_MODEL);
  await until("window.demo.chat.loaded !== null", 60_000);
  const loaded = await demo<any>("window.demo.chat.loaded");
  assert.is(loaded.architecture, "LlamaForCausalLM");
  assert.match((await page.textContent("#chat-status")) ?? "", /LlamaForCausalLM: 2 layers/);
  await page.fill("#chat-temperature", "0");
  await page.fill("#chat-max", "12");
  await page.fill("#chat-input", "hello there");
  await page.keyboard.press("Enter");
  await until("window.demo.chat.replies.length === 1", 60_000);
  const c = await demo<any>("({ reply: window.demo.chat.replies[0], tokens: window.demo.chat.tokens, last: window.demo.chat.last, errors: window.demo.chat.errors, shown: document.querySelector('#chat-log .msg.assistant').textContent })");
  assert.equal(c.errors, []);
  assert.ok(c.last.tokens >= 1, `the model produced tokens (${c.last.tokens})`);
  assert.is(c.shown, c.reply, "the streamed pieces add up to the reply");
  // the same prompt through the same API in Node, greedy
  const wg = await import(pathToFileURL(join(ROOT, "dist", "host", "index.js")).href);
  await wg.init({ backend: "wasm", threads: 1, verbose: false });
  const { model, tokenizer } = await wg.models.loadPretrained(CHAT_MODEL);
  const prompt = tokenizer.applyChatTemplate([{ role: "user", content: "hello there" }], { addGenerationPrompt: true, tokenize: true });
  const ids = await model.generate(prompt, { maxNewTokens: 12, temperature: 0 });
  assert.is(c.reply, tokenizer.decode(ids, { skipSpecialTokens: true }), "the page's reply is Node's greedy continuation");
  assert.is(c.last.tokens, ids.length);
  console.log(`  chat: ${c.last.tokens} tokens streamed at ${c.last.tokensPerSec.toFixed(1)} tokens/s: ${JSON.stringify(c.reply)}`);
  await page.screenshot({ path: join(ARTIFACTS, "demo-chat.png"), fullPage: true });
});

test.run();
