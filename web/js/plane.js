/* plane.js — the plane of a 2D run (GET /api/v1/runs/ID/planes/STEP): G's density over
 * the plane as a heat map and D's output over it as a surface, both under the true
 * modes (rings of 3 sigma), drawn on canvases. Where a plain GAN collapses, the
 * density piles onto a few modes while D's surface stays high over the ones G left.
 *
 * The data: {step, size, range, sigma, modes: [[x, y]], d_output: "probability" or
 * "score", density: size rows of size values (top row y = +range), d: the same}. */
import { h } from './dom.js';

const PX = 4; // pixels per cell

/* white -> deep blue, on the square root of the share so thin mass still shows */
function densityColor(v, max) {
    const t = max > 0 ? Math.sqrt(Math.min(1, v / max)) : 0;
    return [Math.round(255 - 215 * t), Math.round(255 - 175 * t), Math.round(255 - 75 * t)];
}

/* D's output: red where D says fake, white at the middle, green where D says real */
function dColor(t) {
    t = Math.max(0, Math.min(1, t));
    if (t < 0.5) {
        const u = t / 0.5;
        return [215 + Math.round(40 * u), Math.round(60 + 195 * u), Math.round(60 + 195 * u)];
    }
    const u = (t - 0.5) / 0.5;
    return [Math.round(255 - 205 * u), Math.round(255 - 75 * u), Math.round(255 - 175 * u)];
}

function drawGrid(canvas, rows, color) {
    const n = rows.length;
    canvas.width = n * PX;
    canvas.height = n * PX;
    const ctx = canvas.getContext('2d');
    const img = ctx.createImageData(n * PX, n * PX);
    for (let r = 0; r < n; r++) {
        for (let c = 0; c < n; c++) {
            const [R, G, B] = color(rows[r][c]);
            for (let dy = 0; dy < PX; dy++) {
                for (let dx = 0; dx < PX; dx++) {
                    const o = ((r * PX + dy) * n * PX + c * PX + dx) * 4;
                    img.data[o] = R;
                    img.data[o + 1] = G;
                    img.data[o + 2] = B;
                    img.data[o + 3] = 255;
                }
            }
        }
    }
    ctx.putImageData(img, 0, 0);
    return ctx;
}

function drawModes(ctx, p) {
    const n = p.size * PX;
    const scale = n / (2 * p.range);
    ctx.strokeStyle = '#111';
    ctx.lineWidth = 1.5;
    for (const [x, y] of p.modes || []) {
        const cx = (x + p.range) * scale, cy = (p.range - y) * scale;
        ctx.beginPath();
        ctx.arc(cx, cy, Math.max(3, 3 * p.sigma * scale), 0, 2 * Math.PI);
        ctx.stroke();
    }
}

/* A panel with the two pictures; update(plane) draws a plane into it. */
export function planePanel() {
    const gCanvas = h('canvas', { 'data-role': 'density', title: "G's density over the plane" });
    const dCanvas = h('canvas', { 'data-role': 'decision', title: "D's output over the plane" });
    const dLabel = h('span', {}, "D's output");
    const caption = h('div', { class: 'muted plane-caption' }, '');
    const el = h('section', { class: 'panel plane', hidden: true },
        h('h2', {}, 'The plane'),
        h('div', { class: 'plane-pair' },
            h('figure', {}, gCanvas, h('figcaption', {}, "G's density")),
            h('figure', {}, dCanvas, h('figcaption', {}, dLabel))),
        caption);
    const update = (p) => {
        if (!p || !Array.isArray(p.density)) return;
        el.hidden = false;
        el.dataset.step = String(p.step);
        let max = 0;
        for (const row of p.density) for (const v of row) max = Math.max(max, v);
        drawModes(drawGrid(gCanvas, p.density, (v) => densityColor(v, max)), p);
        let lo = 0, hi = 1;
        if (p.d_output === 'score') {
            lo = Infinity;
            hi = -Infinity;
            for (const row of p.d) for (const v of row) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
            if (!(hi > lo)) hi = lo + 1;
        }
        drawModes(drawGrid(dCanvas, p.d, (v) => dColor((v - lo) / (hi - lo))), p);
        dLabel.textContent = p.d_output === 'score' ? `D's score (${lo.toPrecision(3)} red … ${hi.toPrecision(3)} green)`
            : "D's output (0 red … 1 green)";
        caption.textContent = `step ${p.step}: blue is where G puts its points, rings are the true modes (3 σ)`;
    };
    return { el, update };
}
