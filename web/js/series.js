/* series.js — a run's metric series as the charts use them: fetched downsampled
 * (max_points) and then only what is new (from_step), merged onto one step axis, and
 * written out as CSV. */
import { API, api } from './api.js';

/* Points asked for per series: about a chart's width in pixels. */
const MAX_POINTS = 1000;

function metricQuery(names, from) {
    const q = new URLSearchParams();
    for (const n of names) q.append('name', n);
    if (from != null) q.set('from_step', String(from));
    q.set('max_points', String(MAX_POINTS));
    return q;
}

/* Keeps the points of several metrics of one run and fetches only what is new. */
export class SeriesStore {
    constructor(runId, names) {
        this.runId = runId;
        this.names = names;
        this.map = new Map(names.map((n) => [n, { steps: [], vals: [] }]));
        this.last = -1;
    }

    /* full: everything again, downsampled; else the points after the last step held. */
    async load(full) {
        const from = full || this.last < 0 ? null : this.last + 1;
        const res = await api(`${API}/runs/${this.runId}/metrics?${metricQuery(this.names, from)}`);
        const m = (res && res.metrics) || {};
        if (full) for (const s of this.map.values()) { s.steps = []; s.vals = []; }
        let total = 0;
        for (const [name, pts] of Object.entries(m)) {
            let s = this.map.get(name);
            if (!s) {
                s = { steps: [], vals: [] };
                this.map.set(name, s);
            }
            for (const [step, v] of pts || []) {
                if (s.steps.length && step <= s.steps[s.steps.length - 1]) continue;
                s.steps.push(step);
                s.vals.push(v);
                if (step > this.last) this.last = step;
            }
            total += s.steps.length;
        }
        // appending forever would defeat the downsampling; start over when it grows
        if (!full && total > 4 * MAX_POINTS * Math.max(1, this.map.size)) return this.load(true);
        return this;
    }

    /* Puts a whole series in place, as [[step, value], ...]. */
    set(name, points) {
        this.map.set(name, { steps: points.map((p) => p[0]), vals: points.map((p) => p[1]) });
    }

    get(name) {
        return this.map.get(name) || { steps: [], vals: [] };
    }

    has(name) {
        return this.get(name).steps.length > 0;
    }
}

/* Merges series with their own steps into uPlot's aligned columns: [steps, col...],
 * null where a series has no point at that step. */
export function alignSeries(list) {
    const xs = new Set();
    for (const s of list) for (const x of s.steps) xs.add(x);
    const steps = Array.from(xs).sort((a, b) => a - b);
    const index = new Map(steps.map((x, i) => [x, i]));
    const cols = list.map((s) => {
        const col = new Array(steps.length).fill(null);
        for (let i = 0; i < s.steps.length; i++) col[index.get(s.steps[i])] = s.vals[i];
        return col;
    });
    return [steps, ...cols];
}

/* One line per step that logged anything, one column per name the store has. */
export function csvOf(store, names) {
    const cols = names.filter((n) => store.has(n));
    const rows = alignSeries(cols.map((n) => store.get(n)));
    const lines = [['step', ...cols].join(',')];
    for (let i = 0; i < rows[0].length; i++) {
        lines.push([rows[0][i], ...cols.map((_, j) => (rows[j + 1][i] == null ? '' : rows[j + 1][i]))]
            .join(','));
    }
    return lines.join('\n') + '\n';
}
