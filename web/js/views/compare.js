/* views/compare.js — #/compare?runs=A,B[&metric=NAME]: one metric of several runs
 * overlaid (loss_d comes with loss_g); their sample grids side by side at one step
 * picked with one slider, with their evaluation figures at that step in one table;
 * runs picked from a list, kept current by GET /api/v1/events. */
import { API, api, showImage } from '../api.js';
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
    const sideEl = h('div', { class: 'side-by-side' });
    const stepSlider = h('input', { type: 'range', min: '0', max: '0', value: '0',
        'aria-label': 'shared sample step', disabled: true });
    const stepLabel = h('span', { class: 'muted num' }, '');
    const evalTable = h('table', { class: 'plain compare-eval' });
    const samplesPanel = h('section', { class: 'panel compare-samples', hidden: true },
        h('h2', {}, 'Samples side by side'),
        h('div', { class: 'slider' }, stepSlider, stepLabel), sideEl,
        h('h3', {}, 'Evaluation at this step'), evalTable);
    const sampleLists = new Map(); // run -> its sample steps, ascending
    const evalStores = new Map();
    const evalNames = metricNames('eval');
    let allSteps = [];
    let followLast = true;
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
        h('section', { class: 'panel' }, h('h2', {}, 'Runs'), picker),
        h('div', { class: 'compare-main' }, chartsEl, samplesPanel))]);

    /* The newest step of steps at or before step, or null. */
    const atOrBefore = (steps, step) => {
        let best = null;
        for (const x of steps) if (x <= step) best = x;
        return best;
    };

    /* The sample of every run at the slider's step (its newest at or before it), and
     * their evaluation figures there. */
    const showStep = () => {
        const step = allSteps[+stepSlider.value];
        if (step == null) return;
        stepLabel.textContent = `step ${step}`;
        samplesPanel.dataset.step = String(step);
        for (const fig of sideEl.querySelectorAll('figure[data-run]')) {
            const id = +fig.dataset.run;
            const at = atOrBefore(sampleLists.get(id) || [], step);
            const img = fig.querySelector('img');
            const cap = fig.querySelector('.at');
            fig.dataset.shown = at == null ? '' : String(at);
            if (at == null) {
                img.hidden = true;
                cap.textContent = 'no sample yet';
                continue;
            }
            img.hidden = false;
            cap.textContent = at === step ? `step ${at}` : `step ${at} (its newest by then)`;
            showImage(img, `${API}/runs/${id}/samples/${at}.png`).catch(() => {});
        }
        const sel = ids.filter((id) => evalStores.has(id));
        const names = evalNames.filter((n) => sel.some((id) => evalStores.get(id).has(n)));
        clear(evalTable).append(h('thead', {}, h('tr', {}, h('th', {}, 'run'), h('th', {}, 'eval step'),
            names.map((n) => h('th', { class: 'num', dataset: { metric: n } }, label(n))))));
        const body = h('tbody');
        for (const id of sel) {
            const st = evalStores.get(id);
            const r = runs.get(id);
            const ds = r && r.spec && r.spec.dataset && r.spec.dataset.name;
            let at = null;
            for (const n of names) {
                const a = atOrBefore(st.get(n).steps, step);
                if (a != null && (at == null || a > at)) at = a;
            }
            body.append(h('tr', { dataset: { run: id } }, h('td', {}, runLabel(id)),
                h('td', { class: 'num' }, at == null ? '—' : String(at)),
                names.map((n) => {
                    const s2 = st.get(n);
                    const i = at == null ? -1 : s2.steps.indexOf(at);
                    return h('td', { class: 'num', dataset: { metric: n } },
                        i < 0 ? '—' : fmtMetric(n, s2.vals[i], ds));
                })));
        }
        evalTable.append(body);
    };
    stepSlider.addEventListener('input', () => {
        followLast = +stepSlider.value === allSteps.length - 1;
        showStep();
    });

    const loadSamples = async () => {
        const sel = ids.filter((id) => runs.has(id));
        await Promise.all(sel.map(async (id) => {
            const res = await api(`${API}/runs/${id}/samples`);
            sampleLists.set(id, ((res && res.samples) || []).map((x) => x.step).sort((a, b) => a - b));
            const st = evalStores.get(id) || new SeriesStore(id, evalNames);
            await st.load(true);
            evalStores.set(id, st);
        }));
        const all = new Set();
        for (const id of sel) for (const x of sampleLists.get(id) || []) all.add(x);
        allSteps = Array.from(all).sort((a, b) => a - b);
        samplesPanel.hidden = sel.length < 2 || !allSteps.length;
        stepSlider.max = String(Math.max(0, allSteps.length - 1));
        stepSlider.disabled = allSteps.length < 2;
        if (followLast || +stepSlider.value >= allSteps.length) stepSlider.value = stepSlider.max;
        if (!sideEl.childElementCount || sideEl.dataset.runs !== sel.join(',')) {
            clear(sideEl);
            sideEl.dataset.runs = sel.join(',');
            for (const id of sel) {
                sideEl.append(h('figure', { dataset: { run: id } },
                    h('img', { alt: `samples of run ${id}` }),
                    h('figcaption', {}, h('a', { href: `#/runs/${id}` }, runLabel(id)), ' ',
                        h('span', { class: 'at muted' }, ''))));
            }
        }
        showStep();
    };

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
        if (id != null && chosen.has(id) && (ev.type === 'sample' || ev.type === 'eval' ||
            ev.type === 'alert')) later(`samples${id}`, () => loadSamples().catch(() => {}));
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
        await loadSamples().catch((e) => errEl.append(errorBox(e)));
    })();

    return () => {
        stream.close();
        later.cancel();
        for (const c of charts) c.destroy();
    };
}
