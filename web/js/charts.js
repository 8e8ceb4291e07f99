/* charts.js — a panel with one uPlot chart of step -> value (uPlot is the vendored
 * script web/vendor/uPlot.iife.min.js, loaded before the modules as the global uPlot).
 * Charts redraw in the other palette when the system switches light and dark. */
import { h } from './dom.js';
import { fmtNum } from './format.js';
import { alignSeries } from './series.js';

export const PALETTE = ['#4e79a7', '#e15759', '#59a14f', '#f28e2b', '#b07aa1', '#76b7b2',
    '#edc948', '#ff9da7', '#9c755f', '#bab0ac'];

const liveCharts = new Set();

function themeColors() {
    const cs = getComputedStyle(document.documentElement);
    return {
        fg: cs.getPropertyValue('--muted').trim() || '#666',
        grid: cs.getPropertyValue('--grid').trim() || 'rgba(0,0,0,0.1)',
    };
}

/* Decimals that x needs, e.g. 0.0025 -> 4, 500 -> 0. */
function decimalsOf(x) {
    if (!x || !isFinite(x)) return 0;
    const [mant, exp] = Number(Math.abs(x).toPrecision(6)).toExponential().split('e');
    const frac = (mant.split('.')[1] || '').length;
    return Math.max(0, Math.min(12, frac - Number(exp)));
}

/* Tick labels with as many decimals as the tick spacing needs (uPlot's default stops
 * at three, which prints 0.0105 and 0.011 alike). */
function tickValues(u, splits, axis, space, incr) {
    const d = decimalsOf(incr);
    return splits.map((v) => {
        if (v == null) return '';
        if (Math.abs(v) >= 1e7) return v.toExponential(1);
        return v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
    });
}

/* Room for the longest tick label of the y axis. */
function axisSize(u, values) {
    const n = values ? Math.max(3, ...values.map((v) => String(v).length)) : 4;
    return Math.ceil(n * 7.2) + 18;
}

/* The panel is a section with data-chart=key and data-points=the points it shows.
 * series: [{label, color, fmt?}], fmt printing a value in the legend (default fmtNum).
 * opts: height (px), sync (a key: charts with the same one share the cursor), help (a
 * title for the heading). */
export class Chart {
    constructor(parent, key, title, series, opts) {
        this.opts = opts || {};
        this.series = series;
        this.plot = h('div', { class: 'plot' });
        this.nodata = h('div', { class: 'nodata' }, 'no data yet');
        this.plot.append(this.nodata);
        this.el = h('section', { class: 'panel chart', dataset: { chart: key, points: '0' } },
            h('h3', { title: this.opts.help || null }, title), this.plot);
        parent.append(this.el);
        this.data = [[], ...series.map(() => [])];
        this.u = null;
        this.build();
        this.ro = new ResizeObserver(() => this.resize());
        this.ro.observe(this.plot);
        liveCharts.add(this);
    }

    size() {
        return { width: Math.max(200, this.plot.clientWidth || 300),
            height: this.opts.height || 200 };
    }

    build() {
        if (this.u) this.u.destroy();
        const c = themeColors();
        const axis = { stroke: c.fg, grid: { stroke: c.grid, width: 1 },
            ticks: { stroke: c.grid, width: 1 }, values: tickValues };
        const o = Object.assign(this.size(), {
            scales: { x: { time: false } },
            series: [{ label: 'step', value: (u, v) => (v == null ? '—' : String(v)) }].concat(
                this.series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5,
                    spanGaps: true, value: (u, v) => (v == null ? '—' : (s.fmt || fmtNum)(v)) }))),
            axes: [Object.assign({}, axis), Object.assign({ size: axisSize }, axis)],
            legend: { live: true },
            cursor: this.opts.sync ? { sync: { key: this.opts.sync } } : {},
        });
        this.u = new window.uPlot(o, this.data, this.plot);
    }

    resize() {
        if (this.u) this.u.setSize(this.size());
    }

    /* list: per series {steps:[], vals:[]} in the constructor's order. */
    setData(list) {
        this.data = alignSeries(list);
        let points = 0;
        for (let i = 1; i < this.data.length; i++) {
            for (const v of this.data[i]) if (v != null) points++;
        }
        this.el.dataset.points = String(points);
        this.nodata.hidden = points > 0;
        this.u.setData(this.data);
    }

    destroy() {
        this.ro.disconnect();
        if (this.u) this.u.destroy();
        this.u = null;
        liveCharts.delete(this);
    }
}

window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    for (const c of liveCharts) {
        c.build();
        c.u.setData(c.data);
    }
});
