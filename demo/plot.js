// A two-axis line plot on a canvas, no charting library: the training loss
// (left axis, from 0) and the held-out accuracy (right axis, 80–100%, where
// this network spends its time) against the training step.

/**
 * @param {HTMLCanvasElement} canvas
 * @param {{ loss: [number, number][], accuracy: [number, number][], steps: number }} h  [step, value] pairs
 */
export function drawPlot(canvas, h) {
  const dpr = globalThis.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || canvas.width, cssH = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(cssW * dpr)) { canvas.width = Math.round(cssW * dpr); canvas.height = Math.round(cssH * dpr); }
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssW, cssH);
  const L = 44, R = 48, T = 14, B = 30, w = cssW - L - R, ht = cssH - T - B;
  const maxStep = Math.max(1, h.steps, ...h.loss.map((p) => p[0]), ...h.accuracy.map((p) => p[0]));
  const maxLoss = Math.max(0.5, ...h.loss.map((p) => p[1]));
  const ACC_LO = 0.8;
  const x = (s) => L + (s / maxStep) * w;
  const yLoss = (v) => T + ht - (Math.min(v, maxLoss) / maxLoss) * ht;
  const yAcc = (v) => T + ht - ((Math.max(ACC_LO, Math.min(1, v)) - ACC_LO) / (1 - ACC_LO)) * ht;

  g.font = "11px system-ui, sans-serif";
  g.lineWidth = 1;
  g.strokeStyle = "#e3e3e3";
  g.fillStyle = "#666";
  for (let i = 0; i <= 4; i++) { // grid, both axes' labels
    const y = T + (ht * i) / 4;
    g.beginPath(); g.moveTo(L, y); g.lineTo(L + w, y); g.stroke();
    g.textAlign = "right"; g.fillText((maxLoss * (1 - i / 4)).toFixed(2), L - 6, y + 4);
    g.textAlign = "left"; g.fillText(`${(100 * (1 - (i / 4) * (1 - ACC_LO))).toFixed(0)}%`, L + w + 6, y + 4);
  }
  g.textAlign = "center";
  for (let i = 0; i <= 4; i++) g.fillText(String(Math.round((maxStep * i) / 4)), x((maxStep * i) / 4), T + ht + 16);
  g.fillText("step", L + w / 2, cssH - 2);

  const line = (pts, y, color, dots) => {
    g.strokeStyle = color; g.fillStyle = color; g.lineWidth = 2;
    g.beginPath();
    pts.forEach(([s, v], i) => (i ? g.lineTo(x(s), y(v)) : g.moveTo(x(s), y(v))));
    g.stroke();
    if (dots) for (const [s, v] of pts) { g.beginPath(); g.arc(x(s), y(v), 2.5, 0, 2 * Math.PI); g.fill(); }
  };
  line(h.loss, yLoss, "#d9480f", false);
  line(h.accuracy, yAcc, "#1971c2", true);
  g.textAlign = "left";
  g.fillStyle = "#d9480f"; g.fillText("loss (left)", L + 6, T + 12);
  g.fillStyle = "#1971c2"; g.fillText("held-out accuracy (right)", L + 80, T + 12);
}
