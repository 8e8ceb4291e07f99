/* views/sweeps.js — #/sweeps: every sweep with its best configuration; #/sweeps/ID: one
 * sweep's configurations as a table sorted by the objective (mean ± std over the
 * seeds), a parallel-coordinates plot of the axes against the objective, and the
 * samples of the best configuration's runs; kept current by GET /api/v1/events. */
import { API, api, showImage } from '../api.js';
import { label, metric as metricInfo } from '../catalog.js';
import { append, clear, errorBox, h, view } from '../dom.js';
import { debouncer, eventRun, openStream } from '../events.js';
import { age, fmtMetric, fmtNum } from '../format.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...kids) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    for (const k of kids) if (k != null) el.append(k);
    return el;
}

const short = (path) => path.split('.').pop();

function valueText(v) {
    if (typeof v === 'number') return fmtNum(v);
    return String(v);
}

function valuesText(values) {
    return Object.entries(values || {}).map(([k, v]) => `${short(k)}=${valueText(v)}`).join(', ');
}

/* "7.2 ± 0.8" of an objective, "—" without one. A mean of counts is no count: it
 * keeps its fraction (3.5 modes), where a fraction still reads as a percentage. */
function objectiveText(metric, o) {
    if (!o || typeof o.mean !== 'number') return '—';
    const m = metricInfo(metric);
    const fmt = (v) => (m && m.format === 'fraction' ? fmtMetric(metric, v) : fmtNum(v));
    return `${fmt(o.mean)} ± ${fmt(o.std)}`;
}

/* Sorts configurations best first by their mean; those without one last. */
function ranked(sweep) {
    const max = sweep.objective && sweep.objective.goal === 'max';
    return sweep.configurations.slice().sort((a, b) => {
        const x = a.objective && a.objective.mean, y = b.objective && b.objective.mean;
        const hx = typeof x === 'number', hy = typeof y === 'number';
        if (hx !== hy) return hx ? -1 : 1;
        if (!hx || x === y) return a.index - b.index;
        return max ? y - x : x - y;
    });
}

/* One axis of the plot: a function from value to [0, 1] and its tick labels. */
function axisScale(values) {
    const nums = values.filter((v) => typeof v === 'number');
    if (nums.length === values.length && nums.length) {
        let lo = Math.min(...nums), hi = Math.max(...nums);
        const log = lo > 0 && hi / lo > 20;
        const f = log ? Math.log : (x) => x;
        if (hi === lo) { lo -= 1; hi += 1; }
        const a = f(lo), b = f(hi);
        const pos = (v) => (f(v) - a) / (b - a);
        // every value when there are few (a grid's), else the ends
        const distinct = Array.from(new Set(nums)).sort((x, y) => x - y);
        const ticks = distinct.length <= 8 ? distinct.map((v) => [pos(v), fmtNum(v)])
            : [[0, fmtNum(lo)], [1, fmtNum(hi)]];
        return { pos, ticks, log };
    }
    const cats = Array.from(new Set(values.map(String)));
    const pos = (v) => (cats.length < 2 ? 0.5 : cats.indexOf(String(v)) / (cats.length - 1));
    return { pos, ticks: cats.map((c) => [pos(c), c]) };
}

/* The parallel-coordinates plot: one vertical axis per swept field and one for the
 * objective, one line per configuration, from red (the worst) to green (the best);
 * the best is thick. */
function parallelPlot(sweep) {
    const axes = Object.keys(sweep.axes || {});
    const metric = sweep.objective.metric;
    const confs = sweep.configurations;
    const cols = axes.map((a) => ({ name: short(a), scale: axisScale(confs.map((c) => c.values[a])),
        get: (c) => c.values[a] }));
    const withObj = confs.filter((c) => c.objective && typeof c.objective.mean === 'number');
    const objScale = axisScale(withObj.length ? withObj.map((c) => c.objective.mean) : [0, 1]);
    cols.push({ name: label(metric), scale: objScale, get: (c) => (c.objective ? c.objective.mean : null),
        objective: true });
    const W = 720, H = 300, top = 30, bottom = 40, left = 60, right = 60;
    const x = (i) => left + (cols.length < 2 ? 0 : (i * (W - left - right)) / (cols.length - 1));
    const y = (t) => top + (1 - t) * (H - top - bottom);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'parallel', role: 'img',
        'aria-label': 'configurations: axes against the objective' });
    const order = ranked(sweep);
    const rank = new Map(order.map((c, i) => [c.index, i]));
    const n = order.length;
    const best = sweep.best ? sweep.best.index : -1;
    for (const c of confs.slice().sort((a, b) => rank.get(b.index) - rank.get(a.index))) {
        const pts = [];
        cols.forEach((col, i) => {
            const v = col.get(c);
            if (v == null || (col.objective && typeof v !== 'number')) return;
            pts.push(`${x(i).toFixed(1)},${y(col.scale.pos(v)).toFixed(1)}`);
        });
        const r = rank.get(c.index);
        const has = c.objective && typeof c.objective.mean === 'number';
        // the best green, the worst red
        const hue = has ? Math.round(10 + (120 * (n - 1 - r)) / Math.max(1, n - 1)) : 0;
        root.append(svg('polyline', { points: pts.join(' '), fill: 'none',
            stroke: has ? `hsl(${hue} 70% 50%)` : 'var(--muted)',
            'stroke-width': c.index === best ? 3.5 : 1.5, 'stroke-dasharray': has ? '' : '4 3',
            opacity: c.stopped ? 0.45 : 0.9, 'data-config': c.index },
        svg('title', {}, `#${c.index} ${valuesText(c.values)}: ${objectiveText(metric, c.objective)}`)));
    }
    cols.forEach((col, i) => {
        root.append(svg('line', { x1: x(i), x2: x(i), y1: y(0), y2: y(1), stroke: 'currentColor',
            'stroke-opacity': 0.5 }));
        const t = svg('text', { x: x(i), y: H - 12, 'text-anchor': 'middle', class: 'axis-name' });
        t.textContent = col.name + (col.scale.log ? ' (log)' : '');
        root.append(t);
        for (const [p, txt] of col.scale.ticks) {
            const tk = svg('text', { x: x(i) + 5, y: y(p) + 4, class: 'tick' });
            tk.textContent = txt;
            root.append(tk);
        }
    });
    return root;
}

function listView(root) {
    const body = h('tbody');
    const empty = h('div', { class: 'empty', hidden: true },
        'No sweeps yet. Submit one with POST /api/v1/sweeps or `ganctl sweep FILE`.');
    append(root, [h('div', { class: 'page-head' }, h('h1', {}, 'Sweeps')),
        h('div', { class: 'panel' }, h('table', { class: 'runs sweeps' }, h('thead', {}, h('tr', {},
            h('th', {}, 'Name'), h('th', {}, 'Status'), h('th', {}, 'Configurations'),
            h('th', {}, 'Objective'), h('th', {}, 'Best'), h('th', {}, 'Age'))), body), empty)]);
    const load = async () => {
        const res = await api(`${API}/sweeps`);
        clear(body);
        const list = (res && res.sweeps) || [];
        empty.hidden = list.length > 0;
        for (const w of list) {
            const metric = w.objective.metric;
            body.append(h('tr', { dataset: { sweep: w.id, status: w.status } },
                h('td', { class: 'name' }, h('a', { href: `#/sweeps/${w.id}` }, w.name),
                    h('span', { class: 'id' }, `#${w.id}`)),
                h('td', {}, w.status), h('td', { class: 'num' }, String(w.configurations)),
                h('td', {}, `${label(metric)} (${w.objective.goal})`),
                h('td', {}, w.best ? `${objectiveText(metric, w.best.objective)} · ${valuesText(w.best.values)}` : '—'),
                h('td', {}, age(w.created_at))));
        }
    };
    return load;
}

function detailView(root, id) {
    const head = h('div', { class: 'page-head' });
    const errEl = h('div');
    const table = h('table', { class: 'plain sweep-table' });
    const plot = h('div', { class: 'parallel-wrap' });
    const bestEl = h('div', { class: 'side-by-side best-samples' });
    const bestTitle = h('h2', {}, 'The best configuration');
    append(root, [head, errEl, h('div', { class: 'sweep-grid' },
        h('section', { class: 'panel' }, h('h2', {}, 'Configurations, best first'), table),
        h('section', { class: 'panel' }, h('h2', {}, 'Axes against the objective'), plot),
        h('section', { class: 'panel' }, bestTitle, bestEl))]);
    let runs = new Set();
    let shownBest = '';
    const load = async () => {
        const w = await api(`${API}/sweeps/${id}`);
        runs = new Set(w.configurations.flatMap((c) => c.runs));
        const metric = w.objective.metric;
        clear(head);
        append(head, [h('h1', {}, w.name, h('span', { class: 'muted' }, ` sweep #${w.id}`)),
            h('span', { class: 'status', dataset: { status: w.status } }, w.status),
            h('span', { class: 'muted' }, `${label(metric)}, ${w.objective.goal === 'max' ? 'higher' : 'lower'} is better · ` +
                `${w.configurations.length} configurations × ${w.seeds} seeds` +
                (w.random ? ` · random search` : ' · grid') +
                (w.early_stopping ? ' · successive halving' : ''))]);
        const axes = Object.keys(w.axes || {});
        clear(table).append(h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'config'),
            axes.map((a) => h('th', { title: a }, short(a))), h('th', { class: 'num' }, `${label(metric)} (mean ± std)`),
            h('th', { class: 'num' }, 'best run'), h('th', {}, 'runs'), h('th', {}, 'state'))));
        const body = h('tbody');
        ranked(w).forEach((c, i) => {
            body.append(h('tr', { dataset: { config: c.index, best: w.best && w.best.index === c.index ? '1' : null } },
                h('td', { class: 'num' }, String(i + 1)), h('td', { class: 'num' }, String(c.index)),
                axes.map((a) => h('td', { class: 'num' }, valueText(c.values[a]))),
                h('td', { class: 'num objective' }, objectiveText(metric, c.objective)),
                h('td', { class: 'num' }, c.objective ? fmtMetric(metric, c.objective.best) : '—'),
                h('td', {}, c.runs.map((r, k) => [k ? ' ' : '', h('a', { href: `#/runs/${r}` }, `#${r}`)])),
                h('td', {}, c.stopped ? 'stopped' : c.finished ? 'finished' : 'training')));
        });
        table.append(body);
        clear(plot).append(parallelPlot(w));
        const best = w.best;
        bestTitle.textContent = best ? `The best configuration: ${valuesText(best.values)}` : 'The best configuration';
        const key = best ? `${best.index}:${best.runs.join(',')}` : '';
        if (key !== shownBest) {
            shownBest = key;
            clear(bestEl);
            if (!best) bestEl.append(h('div', { class: 'muted' }, 'No configuration has an evaluation yet.'));
        }
        for (const r of best ? best.runs : []) {
            let fig = bestEl.querySelector(`figure[data-run="${r}"]`);
            if (!fig) {
                fig = h('figure', { dataset: { run: r } }, h('img', { alt: `samples of run ${r}` }),
                    h('figcaption', {}, h('a', { href: `#/runs/${r}` }, `run #${r}`)));
                bestEl.append(fig);
            }
            showImage(fig.querySelector('img'), `${API}/runs/${r}/samples/latest.png`).catch(() => {
                fig.querySelector('img').hidden = true;
            });
        }
        document.title = `${w.name} · sweeps · ganctl`;
    };
    return { load, has: (run) => runs.has(run) };
}

export function sweepsView(id) {
    const root = clear(view());
    const later = debouncer(800);
    let load;
    let has = () => true;
    if (id) {
        const d = detailView(root, id);
        load = d.load;
        has = d.has;
    } else {
        load = listView(root);
    }
    const errSlot = h('div');
    root.append(errSlot);
    const reload = () => load().then(() => clear(errSlot), (e) => clear(errSlot).append(errorBox(e)));
    const stream = openStream(`${API}/events`, (ev) => {
        const run = eventRun(ev);
        if (ev.type !== 'status' && ev.type !== 'eval' && ev.type !== 'sample') return;
        if (run == null || has(run)) later('sweep', reload);
    }, () => later('sweep', reload));
    reload();
    return () => {
        stream.close();
        later.cancel();
        document.title = 'ganctl';
    };
}
