/* views/compare.js — #/compare?runs=A,B[&metric=NAME]: one metric of several runs
 * overlaid (loss_d comes with loss_g), runs picked from a list, kept current by
 * GET /api/v1/events. */
import { API, api } from '../api.js';
import { label, metricNames } from '../catalog.js';
import { Chart, PALETTE } from '../charts.js';
import { append, clear, errorBox, h, view } from '../dom.js';
import { debouncer, eventRun, openStream } from '../events.js';
import { fmtMetric } from '../format.js';
import { SeriesStore } from '../series.js';
import { statusBadge } from '../summary.js';

/* The metric shown first, and the metrics a choice shows: the discriminator's loss is
 * read next to the generator's. */
const FIRST = 'loss_d';
const shownWith = (metric) => (metric === 'loss_d' ? ['loss_d', 'loss_g'] : [metric]);

export function compareView(params) {
    const root = clear(view());
    const ids = (params.get('runs') || '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
    const chosen = new Set(ids);
    const names = metricNames();
    let metric = names.includes(params.get('metric')) ? params.get('metric') : FIRST;
    const runs = new Map();
    const stores = new Map();
    const later = debouncer(1000);
    let charts = [];

    const picker = h('div', { class: 'picker' });
    const chartsEl = h('div', { class: 'compare-charts' });
    const errEl = h('div');
    const metricSel = h('select', { 'aria-label': 'metric', onchange: () => {
        metric = metricSel.value;
        go();
    } }, names.map((n) => h('option', { value: n, selected: n === metric }, label(n))));

    const pickerBadge = (id, st) => {
        const b = statusBadge(st);
        b.dataset.run = String(id);
        return b;
    };

    const go = () => {
        const list = Array.from(chosen).sort((a, b) => a - b).join(',');
        location.hash = `#/compare?runs=${list}&metric=${metric}`;
    };

    append(root, [h('div', { class: 'page-head' }, h('h1', {}, 'Compare runs'),
        h('span', { class: 'spacer' }), h('label', { class: 'row' }, 'metric', metricSel)),
    errEl, h('div', { class: 'compare-grid' },
        h('section', { class: 'panel' }, h('h2', {}, 'Runs'), picker), chartsEl)]);

    const runLabel = (id) => {
        const r = runs.get(id);
        return r ? `#${id} ${r.name}` : `#${id}`;
    };

    const draw = () => {
        for (const c of charts) c.destroy();
        charts = [];
        clear(chartsEl);
        const sel = ids.filter((id) => stores.has(id));
        if (sel.length < 2) {
            chartsEl.append(h('div', { class: 'panel empty' }, 'Pick two or more runs to overlay their curves.'));
        }
        for (const n of shownWith(metric)) {
            const c = new Chart(chartsEl, `compare-${n}`, label(n),
                sel.map((id, i) => ({ label: runLabel(id), color: PALETTE[i % PALETTE.length],
                    fmt: (v) => fmtMetric(n, v) })),
                { height: 320, sync: 'compare' });
            c.setData(sel.map((id) => stores.get(id).get(n)));
            c.el.dataset.series = String(sel.length);
            charts.push(c);
        }
    };

    const loadRun = async (id) => {
        const s = new SeriesStore(id, shownWith(metric));
        await s.load(true);
        stores.set(id, s);
    };

    const stream = openStream(`${API}/events`, (ev) => {
        const id = eventRun(ev);
        if (ev.type === 'status' && ev.data && typeof ev.data.status === 'string') {
            const old = picker.querySelector(`.status[data-run="${id}"]`);
            if (old) old.replaceWith(pickerBadge(id, ev.data.status));
        }
        if (id == null || !chosen.has(id) || (ev.type !== 'metrics' && ev.type !== 'eval')) return;
        later(id, async () => {
            await stores.get(id)?.load(false).catch(() => {});
            for (const c of charts) {
                const n = c.el.dataset.chart.replace(/^compare-/, '');
                c.setData(ids.filter((x) => stores.has(x)).map((x) => stores.get(x).get(n)));
            }
        });
    });

    (async () => {
        try {
            const res = await api(`${API}/runs?limit=100`);
            for (const r of res.runs || []) runs.set(r.id, r);
            for (const id of ids) if (!runs.has(id)) runs.set(id, await api(`${API}/runs/${id}`));
        } catch (e) {
            errEl.append(errorBox(e));
        }
        clear(picker);
        const all = Array.from(runs.values()).sort((a, b) => b.id - a.id);
        if (!all.length) picker.append(h('div', { class: 'muted' }, 'No runs yet.'));
        for (const r of all) {
            picker.append(h('label', {}, h('input', { type: 'checkbox', checked: chosen.has(r.id),
                dataset: { run: r.id }, onchange: (e) => {
                    if (e.target.checked) chosen.add(r.id);
                    else chosen.delete(r.id);
                    go();
                } }), h('span', {}, `#${r.id} ${r.name}`), pickerBadge(r.id, r.status)));
        }
        await Promise.all(ids.map((id) => loadRun(id).catch((e) => errEl.append(errorBox(e)))));
        draw();
    })();

    return () => {
        stream.close();
        later.cancel();
        for (const c of charts) c.destroy();
    };
}
