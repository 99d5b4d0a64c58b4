// Issue 15: RMSprop, Adagrad and Adam/AdamW's amsgrad against float64
// references written from torch.optim's documented algorithms (several steps,
// state carried), on every backend; their state dicts under torch's names;
// the OneCycle and ReduceLROnPlateau schedules against values worked out by
// hand from torch.optim.lr_scheduler's formulas, by hand and as fit() callbacks.
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { forEachBackend } from "./backends.js";
import { randomF32 } from "./harness.js";

const SHAPES = [[5], [2, 7]];
const STEPS = 5;

/** The gradient of parameter i at step t (1-based): large first, then small, so amsgrad's maximum differs from v. */
const gradOf = (i: number, t: number) => Float32Array.from(randomF32(SHAPES[i].reduce((a, b) => a * b), 10 * t + i), (u) => u * (t === 1 ? 3 : 0.2 * t));
const initOf = (i: number) => Float32Array.from(randomF32(SHAPES[i].reduce((a, b) => a * b), 100 + i));

type Ref = (p: Float64Array, g: Float64Array, st: Record<string, Float64Array>, t: number) => void;

function rmspropRef(o: { lr: number; alpha: number; eps: number; weightDecay: number; momentum: number; centered: boolean }): Ref {
  return (p, g0, st, _t) => {
    const n = p.length;
    st.sq ??= new Float64Array(n); st.buf ??= new Float64Array(n); st.ga ??= new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const g = g0[i] + o.weightDecay * p[i];
      st.sq[i] = o.alpha * st.sq[i] + (1 - o.alpha) * g * g;
      let avg: number;
      if (o.centered) {
        st.ga[i] = o.alpha * st.ga[i] + (1 - o.alpha) * g;
        avg = Math.sqrt(st.sq[i] - st.ga[i] * st.ga[i]) + o.eps;
      } else avg = Math.sqrt(st.sq[i]) + o.eps;
      if (o.momentum > 0) {
        st.buf[i] = o.momentum * st.buf[i] + g / avg;
        p[i] -= o.lr * st.buf[i];
      } else p[i] -= (o.lr * g) / avg;
    }
  };
}

function adagradRef(o: { lr: number; lrDecay: number; weightDecay: number; initialAccumulatorValue: number; eps: number }): Ref {
  return (p, g0, st, t) => {
    st.sum ??= new Float64Array(p.length).fill(o.initialAccumulatorValue);
    const clr = o.lr / (1 + (t - 1) * o.lrDecay);
    for (let i = 0; i < p.length; i++) {
      const g = g0[i] + o.weightDecay * p[i];
      st.sum[i] += g * g;
      p[i] -= (clr * g) / (Math.sqrt(st.sum[i]) + o.eps);
    }
  };
}

function amsgradRef(o: { lr: number; b1: number; b2: number; eps: number; weightDecay: number; decoupled: boolean }): Ref {
  return (p, g0, st, t) => {
    const n = p.length;
    st.m ??= new Float64Array(n); st.v ??= new Float64Array(n); st.vmax ??= new Float64Array(n);
    const bc1 = 1 - o.b1 ** t, bc2 = 1 - o.b2 ** t;
    for (let i = 0; i < n; i++) {
      let g = g0[i];
      if (o.decoupled) p[i] *= 1 - o.lr * o.weightDecay;
      else g += o.weightDecay * p[i];
      st.m[i] = o.b1 * st.m[i] + (1 - o.b1) * g;
      st.v[i] = o.b2 * st.v[i] + (1 - o.b2) * g * g;
      st.vmax[i] = Math.max(st.vmax[i], st.v[i]);
      p[i] -= (o.lr / bc1) * (st.m[i] / (Math.sqrt(st.vmax[i]) / Math.sqrt(bc2) + o.eps));
    }
  };
}

function closeTo(got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol = 2e-5, atol = 2e-6): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]))) assert.unreachable(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

forEachBackend("optim-extra", (backend, test) => {
  const cases: [string, (ps: wg.Tensor[]) => wg.optim.Optimizer, Ref][] = [
    ["RMSprop defaults", (ps) => new wg.optim.RMSprop(ps), rmspropRef({ lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false })],
    ["RMSprop centered, momentum, weight decay", (ps) => new wg.optim.RMSprop(ps, { lr: 0.05, alpha: 0.9, eps: 1e-6, weightDecay: 0.1, momentum: 0.8, centered: true }),
      rmspropRef({ lr: 0.05, alpha: 0.9, eps: 1e-6, weightDecay: 0.1, momentum: 0.8, centered: true })],
    ["RMSprop momentum, not centered", (ps) => new wg.optim.RMSprop(ps, { lr: 0.02, momentum: 0.5 }), rmspropRef({ lr: 0.02, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0.5, centered: false })],
    ["Adagrad defaults", (ps) => new wg.optim.Adagrad(ps), adagradRef({ lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 })],
    ["Adagrad lrDecay, weight decay, initial accumulator", (ps) => new wg.optim.Adagrad(ps, { lr: 0.1, lrDecay: 0.3, weightDecay: 0.05, initialAccumulatorValue: 0.2, eps: 1e-6 }),
      adagradRef({ lr: 0.1, lrDecay: 0.3, weightDecay: 0.05, initialAccumulatorValue: 0.2, eps: 1e-6 })],
    ["Adam amsgrad, L2", (ps) => new wg.optim.Adam(ps, { lr: 0.01, amsgrad: true, weightDecay: 0.1 }), amsgradRef({ lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: false })],
    ["AdamW amsgrad", (ps) => new wg.optim.AdamW(ps, { lr: 0.01, amsgrad: true, betas: [0.8, 0.9] }), amsgradRef({ lr: 0.01, b1: 0.8, b2: 0.9, eps: 1e-8, weightDecay: 0.01, decoupled: true })],
  ];
  for (const [name, make, ref] of cases) {
    test(`${name}: ${STEPS} steps match the float64 reference`, async () => {
      const ps = SHAPES.map((s, i) => wg.tensor(initOf(i), { shape: s, requiresGrad: true }).keep());
      const opt = make(ps);
      const want = SHAPES.map((_, i) => Float64Array.from(initOf(i)));
      const st = SHAPES.map(() => ({} as Record<string, Float64Array>));
      for (let t = 1; t <= STEPS; t++) {
        wg.scope(() => opt.applyGradients(SHAPES.map((s, i) => wg.tensor(gradOf(i, t), { shape: s }))));
        SHAPES.forEach((_, i) => ref(want[i], Float64Array.from(gradOf(i, t)), st[i], t));
      }
      for (let i = 0; i < ps.length; i++) closeTo(await ps[i].data(), want[i], `${name} param ${i}`);
      opt.dispose();
      ps.forEach((p) => p.dispose());
    });
  }

  test("amsgrad keeps max_exp_avg_sq = the running maximum of exp_avg_sq", async () => {
    const p = wg.tensor([1, -2, 3], { requiresGrad: true }).keep();
    const opt = new wg.optim.Adam([p], { amsgrad: true, betas: [0.9, 0.5] });
    opt.applyGradients([wg.tensor([4, 4, 4])]);
    opt.applyGradients([wg.tensor([0, 0, 0])]);
    const { tensors } = opt.stateDict();
    assert.equal(Object.keys(tensors).sort(), ["state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq"]);
    closeTo(await tensors["state.0.exp_avg_sq"].data(), [4, 4, 4], "exp_avg_sq"); // 0.5·(0.5·16)
    closeTo(await tensors["state.0.max_exp_avg_sq"].data(), [8, 8, 8], "max_exp_avg_sq");
    opt.dispose();
    p.dispose();
  });

  test("state dicts under torch's names; save, load into a fresh optimizer, and the runs stay together", async () => {
    const mk: [(ps: wg.Tensor[]) => wg.optim.Optimizer, string[]][] = [
      [(ps) => new wg.optim.RMSprop(ps, { momentum: 0.9, centered: true }), ["grad_avg", "momentum_buffer", "square_avg"]],
      [(ps) => new wg.optim.RMSprop(ps), ["square_avg"]],
      [(ps) => new wg.optim.Adagrad(ps, { initialAccumulatorValue: 0.5 }), ["sum"]],
      [(ps) => new wg.optim.AdamW(ps, { amsgrad: true }), ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]],
    ];
    for (const [make, keys] of mk) {
      const a = SHAPES.map((s, i) => wg.tensor(initOf(i), { shape: s, requiresGrad: true }).keep());
      const b = SHAPES.map((s, i) => wg.tensor(initOf(i), { shape: s, requiresGrad: true }).keep());
      const oa = make(a), ob = make(b);
      for (let t = 1; t <= 2; t++) wg.scope(() => { const gs = SHAPES.map((s, i) => wg.tensor(gradOf(i, t), { shape: s })); oa.applyGradients(gs); ob.applyGradients(gs); });
      const saved = oa.stateDict();
      assert.equal(Object.keys(saved.tensors).filter((k) => k.startsWith("state.0.")).map((k) => k.slice(8)).sort(), keys, oa.constructor.name);
      const plain = Object.fromEntries(await Promise.all(Object.entries(saved.tensors).map(async ([k, t]) => [k, { shape: t.shape, data: await t.data() }] as const)));
      const oc = make(b.map((p) => p));
      ob.dispose();
      oc.loadStateDict(plain, saved.meta);
      for (let t = 3; t <= 4; t++) wg.scope(() => { const gs = SHAPES.map((s, i) => wg.tensor(gradOf(i, t), { shape: s })); oa.applyGradients(gs); oc.applyGradients(gs); });
      for (let i = 0; i < a.length; i++) assert.equal([...await b[i].data()], [...await a[i].data()], `${oa.constructor.name} param ${i}`);
      oa.dispose(); oc.dispose();
      [...a, ...b].forEach((p) => p.dispose());
    }
  });

  test("Adagrad's sum starts at initialAccumulatorValue", async () => {
    const p = wg.tensor([1, 2], { requiresGrad: true }).keep();
    const opt = new wg.optim.Adagrad([p], { lr: 1, initialAccumulatorValue: 3 });
    opt.applyGradients([wg.tensor([1, 0])]);
    closeTo(await opt.stateDict().tensors["state.0.sum"].data(), [4, 3], "sum");
    closeTo(await p.data(), [0.5, 2], "p"); // 1 − 1/√4
    opt.dispose();
    p.dispose();
  });

  if (backend === "wasm") {
    test("options torch has and webgrad lacks are errors naming them", () => {
      const p = wg.zeros([2]).keep();
      assert.throws(() => new wg.optim.RMSprop([p], { foreach: true } as never), /RMSprop.*foreach/);
      assert.throws(() => new wg.optim.Adagrad([p], { maximize: true } as never), /Adagrad.*maximize/);
      assert.throws(() => new wg.optim.Adam([p], { capturable: true } as never), /Adam.*capturable/);
      assert.throws(() => new wg.optim.AdamW([p], { amsgrad: 1 } as never), /AdamW: amsgrad must be true or false/);
      assert.throws(() => new wg.optim.RMSprop([p], { centered: "yes" } as never), /RMSprop: centered must be true or false/);
      assert.throws(() => new wg.optim.RMSprop([p], { alpha: -1 }), /RMSprop: alpha/);
      p.dispose();
    });
  }
});

// ---------------------------------------------------------------------------
// Schedules (no tensors: the engine is not needed beyond an optimizer's lr)

forEachBackend("schedules", (backend, test) => {
  if (backend !== "wasm") return;
  const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 + 1e-12 * Math.abs(b), `${what}: got ${a}, want ${b}`);

  test("OneCycle: torch's OneCycleLR lr and momentum, cos and linear, two and three phases", () => {
    // maxLr 0.1, 10 steps, pctStart 0.3: initial 0.1/25 = 0.004, final 0.004/1e4; phase ends at steps 2 and 9
    const s = new wg.OneCycle({ maxLr: 0.1, totalSteps: 10 });
    near(s.lrAt(0), 0.004, "lr 0");
    near(s.lrAt(1), 0.052, "lr 1"); // half-way up the cosine: (0.1 + 0.004) / 2
    near(s.lrAt(2), 0.1, "lr 2");
    near(s.lrAt(9), 4e-7, "lr 9");
    const down = (k: number) => 4e-7 + ((0.1 - 4e-7) / 2) * (Math.cos((Math.PI * (k - 2)) / 7) + 1);
    for (let k = 3; k < 9; k++) near(s.lrAt(k), down(k), `lr ${k}`);
    near(s.momentumAt(0), 0.95, "momentum 0");
    near(s.momentumAt(1), 0.9, "momentum 1");
    near(s.momentumAt(2), 0.85, "momentum 2");
    near(s.momentumAt(9), 0.95, "momentum 9");
    const lin = new wg.OneCycle({ maxLr: 1, totalSteps: 10, annealStrategy: "linear", divFactor: 10, finalDivFactor: 100 });
    near(lin.lrAt(1), 0.55, "linear lr 1");
    near(lin.lrAt(2), 1, "linear lr 2");
    near(lin.lrAt(9), 0.001, "linear lr 9");
    near(lin.lrAt(5), 1 + (0.001 - 1) * (3 / 7), "linear lr 5");
    const three = new wg.OneCycle({ maxLr: 0.1, totalSteps: 10, threePhase: true });
    near(three.lrAt(3), 0.052, "three-phase lr 3");
    near(three.lrAt(4), 0.004, "three-phase lr 4");
    near(three.lrAt(9), 4e-7, "three-phase lr 9");
    near(three.momentumAt(4), 0.95, "three-phase momentum 4");
    near(three.momentumAt(7), 0.95, "three-phase momentum 7");
    assert.throws(() => s.lrAt(11), /OneCycle: tried to step 11 times, more than totalSteps 10/);
  });

  test("OneCycle by hand sets lr and momentum (SGD) or beta1 (Adam); as a fit() callback every optimizer's", () => {
    const p = wg.zeros([2]).keep();
    const sgd = new wg.optim.SGD([p], { lr: 9, momentum: 0.5 });
    const s = new wg.OneCycle({ optimizer: sgd, maxLr: 0.1, totalSteps: 10 });
    near(sgd.lr, 0.004, "lr at construction"); near(sgd.momentum, 0.95, "momentum at construction");
    s.step();
    near(sgd.lr, 0.052, "lr after a step"); near(sgd.momentum, 0.9, "momentum after a step");
    const adam = new wg.optim.Adam([p]);
    new wg.OneCycle({ optimizer: adam, maxLr: 0.1, totalSteps: 10 }).step();
    near(adam.betas[0], 0.9, "beta1"); near(adam.betas[1], 0.999, "beta2");
    const a = new wg.optim.Adam([p]), b = new wg.optim.RMSprop([p], { momentum: 0.1 });
    const cb = new wg.OneCycle({ maxLr: 0.1, totalSteps: 10, cycleMomentum: true });
    cb.onStepBegin({ optimizers: [a, b], optimizer: a } as unknown as wg.FitContext, 2);
    near(a.lr, 0.1, "fit lr a"); near(b.lr, 0.1, "fit lr b"); near(a.betas[0], 0.85, "fit beta1"); near(b.momentum, 0.85, "fit momentum");
    const plain = new wg.optim.SGD([p], { lr: 1 });
    assert.throws(() => new wg.OneCycle({ optimizer: plain, maxLr: 1, totalSteps: 5 }), /OneCycle: SGD was made with momentum 0.*cycleMomentum: false/);
    const ok = new wg.OneCycle({ optimizer: plain, maxLr: 1, totalSteps: 5, cycleMomentum: false });
    near(plain.lr, 0.04, "no momentum cycling");
    ok.step();
    assert.throws(() => new wg.OneCycle({ maxLr: 1, totalSteps: 5, epochs: 3 } as never), /OneCycle.*epochs/);
    assert.throws(() => new wg.OneCycle({ maxLr: 1, totalSteps: 5, annealStrategy: "exp" } as never), /OneCycle: annealStrategy/);
    p.dispose();
  });

  test("ReduceLROnPlateau: patience, relative threshold, cooldown (torch's rules)", () => {
    const p = wg.zeros([1]).keep();
    const opt = new wg.optim.SGD([p], { lr: 1 });
    const s = new wg.ReduceLROnPlateau({ optimizer: opt, patience: 2, factor: 0.5, cooldown: 1, threshold: 0.1 });
    const lrs = [10, 9.5, 9.2, 9.1, 9.0, 8.0, 8.0, 8.0, 8.0].map((m) => (s.step(m), opt.lr));
    assert.equal(lrs, [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25]);
    const o2 = new wg.optim.SGD([p], { lr: 1 });
    const s2 = new wg.ReduceLROnPlateau({ optimizer: o2, mode: "max", patience: 0, thresholdMode: "abs", threshold: 0.5, minLr: 0.3 });
    assert.equal([1, 1.4, 2, 2, 2].map((m) => (s2.step(m), o2.lr)), [1, 0.3, 0.3, 0.3, 0.3]);
    const o3 = new wg.optim.SGD([p], { lr: 1 });
    const cb = new wg.ReduceLROnPlateau({ monitor: "loss", patience: 0 });
    const ctx = { optimizers: [o3], optimizer: o3 } as unknown as wg.FitContext;
    cb.onEpochEnd(ctx, { epoch: 1, loss: 2 } as wg.EpochLog);
    cb.onEpochEnd(ctx, { epoch: 2, loss: 3 } as wg.EpochLog);
    near(o3.lr, 0.1, "fit callback");
    assert.throws(() => cb.onEpochEnd(ctx, { epoch: 3 } as wg.EpochLog), /ReduceLROnPlateau: "loss" is not logged/);
    assert.throws(() => new wg.ReduceLROnPlateau({ factor: 1 }), /factor should be < 1.0/);
    assert.throws(() => new wg.ReduceLROnPlateau({ verbose: true } as never), /ReduceLROnPlateau.*verbose/);
    assert.throws(() => new wg.ReduceLROnPlateau({ thresholdMode: "pct" } as never), /thresholdMode/);
    p.dispose();
  });
});
