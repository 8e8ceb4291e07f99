/* views/run.js — #/runs/ID: one run. Its training curves and an evaluation chart per
 * figure it has, the sample grids with a step slider (for a 2D run with the plane of
 * each sample step: G's density and D's output under the true modes), a generate
 * panel (with a class picker for a conditional run; a translate panel for
 * image-to-image runs, views/translate.js), the newest evaluation, what the watchdog
 * detected and did, how the run was made (provenance), checkpoints to download, the
 * spec, and pause / resume / cancel / clone / delete / CSV export / ONNX export; all
 * kept current by GET /api/v1/runs/ID/events. */
import { API, api, apiBlob, showImage, token } from '../api.js';
import { isPoints, label, metric, metricNames } from '../catalog.js';
import { Chart, PALETTE } from '../charts.js';
import { append, clear, errorBox, h, saveBlob, toast, view } from '../dom.js';
import { debouncer, openStream } from '../events.js';
import { duration, fmtBytes, fmtMetric } from '../format.js';
import { planePanel } from '../plane.js';
import { SeriesStore, csvOf } from '../series.js';
import { datasetText, progressBar, statusBadge, tricksText } from '../summary.js';
import { translatePanel } from './translate.js';

/* Which training metrics share a chart; their labels and formats come from the catalog. */
const TRAIN_CHARTS = [
    { key: 'loss', title: 'Losses', names: ['loss_d', 'loss_g', 'wasserstein'] },
    { key: 'dout', title: 'Discriminator outputs', names: ['d_real', 'd_fake'] },
    { key: 'grad', title: 'Gradient norms', names: ['grad_norm_d', 'grad_norm_g'] },
    { key: 'speed', title: 'Throughput (images/s)', names: ['images_per_s'] },
    { key: 'penalty', title: 'Gradient penalty', names: ['grad_penalty'],
        when: (spec) => !!(spec.tricks && spec.tricks.gradient_penalty) },
];

/* "higher is better" for a figure with a goal, to go with its help. */
function helpOf(name) {
    const m = metric(name);
    if (!m) return null;
    const goal = m.goal === 'max' ? ' Higher is better.' : m.goal === 'min' ? ' Lower is better.' : '';
    return (m.help || '') + goal;
}

export function runView(id) {
    const root = clear(view());
    root.append(h('div', { class: 'loading' }, 'Loading run…'));
    const trainNames = metricNames('train');
    const evalNames = metricNames('eval');
    let run = null;
    let closed = false;
    const charts = [];
    const evalCharts = new Map();
    const train = new SeriesStore(id, trainNames);
    const evals = new SeriesStore(id, evalNames);
    const later = debouncer(700);
    let samples = [];
    let follow = true;
    let stream = null;

    // elements filled in by render()
    const headEl = h('div', { class: 'page-head' });
    const errEl = h('div');
    const chartsEl = h('div', { class: 'charts' });
    const sampleImg = h('img', { alt: 'newest sample grid', 'data-role': 'sample' });
    const sampleLabel = h('span', { class: 'muted num' }, '');
    const slider = h('input', { type: 'range', min: '0', max: '0', value: '0',
        'aria-label': 'sample step', disabled: true });
    const sampleEmpty = h('div', { class: 'muted' }, 'No sample grid yet.');
    const sliderRow = h('div', { class: 'slider', hidden: true }, slider, sampleLabel);
    const evalEl = h('dl', { class: 'kv' });
    const watchEl = h('div', { class: 'watch-records' });
    const plane = planePanel();
    const planes = new Map(); // step -> the plane, fetched once
    const ckptBody = h('tbody');
    const specEl = h('pre', { 'data-role': 'spec' });
    const infoEl = h('dl', { class: 'kv' });
    const genN = h('input', { type: 'text', inputmode: 'numeric', value: '64', 'aria-label': 'n' });
    const genSeed = h('input', { type: 'text', inputmode: 'numeric', value: '1', 'aria-label': 'seed' });
    const genImg = h('img', { alt: 'generated samples', hidden: true, 'data-role': 'generated' });
    const genMsg = h('div', { class: 'muted' });
    const genBtn = h('button', { onclick: () => generate() }, 'Generate');
    // a conditional run's class picker: the classes ticked (none: all in turn)
    const genClasses = h('fieldset', { class: 'class-picker', hidden: true, 'data-role': 'classes' });
    let classesShown = '';

    const showSample = async (i) => {
        const s = samples[i];
        if (!s) return;
        sampleLabel.textContent = `step ${s.step}`;
        const url = typeof s.url === 'string' && s.url.startsWith('/') ? s.url :
            `${API}/runs/${id}/samples/${s.step}.png`;
        try {
            await showImage(sampleImg, url);
        } catch (e) {
            toast(`sample: ${e.message}`);
        }
        if (run && isPoints(run.spec && run.spec.dataset && run.spec.dataset.name)) {
            try {
                if (!planes.has(s.step)) planes.set(s.step, await api(`${API}/runs/${id}/planes/${s.step}`));
                if (+slider.value === i || samples[+slider.value] === s) plane.update(planes.get(s.step));
            } catch (e) { /* a sample without its plane (written before planes existed) */ }
        }
    };
    slider.addEventListener('input', () => {
        follow = +slider.value === samples.length - 1;
        showSample(+slider.value);
    });

    const loadSamples = async () => {
        const res = await api(`${API}/runs/${id}/samples`);
        samples = ((res && res.samples) || []).slice().sort((a, b) => a.step - b.step);
        sampleEmpty.hidden = samples.length > 0;
        sampleImg.hidden = samples.length === 0;
        sliderRow.hidden = samples.length === 0;
        slider.disabled = samples.length < 2;
        slider.max = String(Math.max(0, samples.length - 1));
        if (!samples.length) return;
        if (follow || +slider.value >= samples.length) slider.value = String(samples.length - 1);
        await showSample(+slider.value);
    };

    const loadCheckpoints = async () => {
        const res = await api(`${API}/runs/${id}/checkpoints`);
        const list = ((res && res.checkpoints) || []).slice().sort((a, b) => b.step - a.step);
        clear(ckptBody);
        if (!list.length) {
            ckptBody.append(h('tr', {}, h('td', { colspan: '4', class: 'muted' }, 'No checkpoints yet.')));
        }
        for (const c of list) {
            const url = `${API}/runs/${id}/checkpoints/${c.step}`;
            const file = `run-${id}-step-${c.step}.ckpt`;
            ckptBody.append(h('tr', {},
                h('td', { class: 'num' }, String(c.step)),
                h('td', { class: 'num' }, fmtBytes(c.bytes)),
                h('td', { title: c.sha256 || '' }, h('code', {}, (c.sha256 || '').slice(0, 12))),
                h('td', {}, h('a', { href: url, download: file, onclick: (e) => {
                    if (!token()) return; // a plain link works without a token
                    e.preventDefault();
                    apiBlob(url).then((b) => saveBlob(b, file), (err) => toast(err.message));
                } }, 'download'))));
        }
    };

    // A figure and its baseline (psnr, psnr_baseline) share one chart, so that the curve
    // shows whether G beats the task's naive answer.
    const baselineOf = (name) => (evalNames.includes(`${name}_baseline`) ? `${name}_baseline` : null);
    const isBaseline = (name) => name.endsWith('_baseline') && evalNames.includes(name.slice(0, -9));
    const evalChart = (name) => {
        if (evalCharts.has(name)) return evalCharts.get(name);
        const color = PALETTE[(evalNames.indexOf(name) + 2) % PALETTE.length];
        const series = [{ label: label(name), color, fmt: (v) => fmtMetric(name, v) }];
        const b = baselineOf(name);
        if (b) series.push({ label: label(b), color: PALETTE[(evalNames.indexOf(b) + 2) % PALETTE.length],
            fmt: (v) => fmtMetric(b, v) });
        const c = new Chart(chartsEl, `eval-${name}`, `Eval: ${label(name)}`, series,
            { sync: `run${id}`, help: helpOf(name) });
        evalCharts.set(name, c);
        return c;
    };

    const drawCharts = () => {
        for (const c of charts) c.chart.setData(c.names.map((n) => train.get(n)));
        for (const n of evalNames) {
            if (!evals.has(n) || isBaseline(n)) continue;
            const b = baselineOf(n);
            evalChart(n).setData(b ? [evals.get(n), evals.has(b) ? evals.get(b) : []] : [evals.get(n)]);
        }
    };

    const loadMetrics = async (full) => {
        await Promise.all([train.load(full), evals.load(full)]);
        if (!closed) drawCharts();
    };

    const downloadLink = (url, file, text, role) => h('a', { href: url, download: file,
        class: 'button', dataset: { action: role }, onclick: (e) => {
            if (!token()) return; // a plain link works without a token
            e.preventDefault();
            apiBlob(url).then((b) => saveBlob(b, file), (err) => toast(err.message));
        } }, text);

    const renderWatch = () => {
        clear(watchEl);
        const list = run.watch || [];
        const spec = run.spec || {};
        const action = (spec.watch && spec.watch.action) || 'off';
        if (!list.length) {
            watchEl.append(h('div', { class: 'muted' }, action === 'off' ? 'The watchdog is off.' :
                `Nothing detected (action: ${action}).`));
            return;
        }
        watchEl.append(h('table', { class: 'plain watch' }, h('thead', {}, h('tr', {},
            h('th', {}, 'step'), h('th', {}, 'detected'), h('th', {}, 'done'), h('th', {}, 'what'))),
        h('tbody', {}, list.map((w) => h('tr', { dataset: { kind: w.kind, action: w.action } },
            h('td', { class: 'num' }, String(w.step)),
            h('td', {}, w.kind.replace('_', ' ')),
            h('td', {}, w.action === 'rollback' ? `rolled back to ${w.to_step}, lr ×${w.lr_scale}` : 'alert'),
            h('td', { class: 'watch-msg' }, w.message))))));
    };

    const act = async (verb) => {
        try {
            const opts = { method: verb === 'delete' ? 'DELETE' : 'POST' };
            if (verb === 'delete') {
                if (!confirm(`Delete run ${id} and everything it stored?`)) return;
                await api(`${API}/runs/${id}`, opts);
                location.hash = '#/';
                return;
            }
            run = await api(`${API}/runs/${id}/${verb}`, opts);
            renderHead();
        } catch (e) {
            toast(`${verb}: ${e.message}`);
            refreshRun();
        }
    };

    const exportCsv = async () => {
        try {
            // every name the run stored, at full resolution (the API's cap on points)
            const res = await api(`${API}/runs/${id}/metrics?max_points=100000`);
            const m = (res && res.metrics) || {};
            const known = metricNames();
            const names = known.filter((n) => n in m).concat(
                Object.keys(m).filter((n) => !known.includes(n)).sort());
            const all = new SeriesStore(id, names);
            for (const n of names) all.set(n, m[n]);
            saveBlob(new Blob([csvOf(all, names)], { type: 'text/csv' }),
                `run-${id}-metrics.csv`);
        } catch (e) {
            toast(`export: ${e.message}`);
        }
    };

    /* The class picker, rebuilt only when the run's classes change (they arrive when a
     * conditional run starts), so what is ticked stays ticked. */
    const renderClasses = () => {
        const list = Array.isArray(run.classes) ? run.classes : [];
        const key = JSON.stringify(list);
        if (key === classesShown) return;
        classesShown = key;
        clear(genClasses);
        genClasses.hidden = list.length === 0;
        if (!list.length) return;
        const boxes = list.map((c) => h('label', { class: 'class', title: `class ${c.index}` },
            h('input', { type: 'checkbox', value: String(c.index), dataset: { classIndex: String(c.index) } }),
            String(c.name) === String(c.index) ? String(c.index) : `${c.index} ${c.name}`));
        const tickAll = (on) => {
            for (const b of genClasses.querySelectorAll('input[type=checkbox]')) b.checked = on;
        };
        append(genClasses, [h('legend', {}, 'classes'),
            h('div', { class: 'muted' }, 'none ticked: every class in turn; ticked: n of each, a row per class'),
            h('div', { class: 'class-list' }, boxes),
            h('div', { class: 'row' },
                h('button', { type: 'button', onclick: () => tickAll(true) }, 'all'),
                h('button', { type: 'button', onclick: () => tickAll(false) }, 'none'))]);
    };

    const pickedClasses = () => [...genClasses.querySelectorAll('input[type=checkbox]:checked')]
        .map((b) => Number(b.value));

    const generate = async () => {
        const n = Number(genN.value), seed = Number(genSeed.value);
        const picked = genClasses.hidden ? [] : pickedClasses();
        genBtn.disabled = true;
        genMsg.textContent = 'Generating…';
        const t0 = performance.now();
        try {
            const body = { n: Number.isFinite(n) ? n : genN.value,
                seed: Number.isFinite(seed) ? seed : genSeed.value, format: 'png' };
            if (picked.length === 1) body.class = picked[0];
            else if (picked.length > 1) body.classes = picked;
            const blob = await apiBlob(`${API}/runs/${id}/generate`, { method: 'POST', body });
            if (genImg.dataset.objectUrl) URL.revokeObjectURL(genImg.dataset.objectUrl);
            const url = URL.createObjectURL(blob);
            genImg.dataset.objectUrl = url;
            genImg.src = url;
            genImg.hidden = false;
            const what = picked.length ? ` of each of ${picked.length} class${picked.length > 1 ? 'es' : ''}` : ' samples';
            genMsg.textContent = `${n}${what}, seed ${seed}, in ${Math.round(performance.now() - t0)} ms`;
        } catch (e) {
            genMsg.textContent = e.message;
        } finally {
            genBtn.disabled = false;
        }
    };

    const renderHead = () => {
        const st = run.status;
        const btn = (verb, text, enabled, cls) => h('button', { class: cls, disabled: !enabled,
            dataset: { action: verb }, onclick: () => act(verb) }, text);
        clear(headEl);
        append(headEl, [
            h('h1', {}, run.name || `run ${id}`, h('span', { class: 'muted' }, ` #${id}`)),
            statusBadge(st),
            h('div', { class: 'head-progress' }, progressBar(run)),
            h('span', { class: 'spacer' }),
            btn('pause', 'Pause', st === 'running'),
            btn('resume', 'Resume', st === 'paused'),
            btn('cancel', 'Cancel', st === 'queued' || st === 'running' || st === 'paused', 'danger'),
            h('button', { onclick: exportCsv, dataset: { action: 'csv' } }, 'Export CSV'),
            downloadLink(`${API}/runs/${id}/export?format=onnx`, `run-${id}.onnx`, 'Export ONNX', 'onnx'),
            h('a', { class: 'button', href: `#/launch?from=${id}` }, 'Clone'),
            btn('delete', 'Delete', st !== 'queued' && st !== 'running', 'danger'),
        ]);
        clear(errEl);
        if (run.error) errEl.append(h('div', { class: 'error-box' }, `Run failed: ${run.error}`));
        clear(infoEl);
        const spec = run.spec || {};
        const info = [['dataset', datasetText(spec)], ['loss', spec.loss || '—'],
            ['tricks', tricksText(spec) || 'none'], ['worker', run.worker || '—'],
            ['created', run.created_at || '—'],
            ['started', run.started_at || '—'], ['finished', run.finished_at || '—'],
            ['running for', run.started_at ? duration(run.started_at, run.finished_at) : '—']];
        if (run.sweep) info.push(['sweep', h('a', { href: `#/sweeps/${run.sweep}` }, `#${run.sweep}`)]);
        // how it was made: what `ganctl reproduce` compares
        const pv = run.provenance;
        if (pv) {
            info.push(['version', `${pv.version} (${pv.commit})`], ['compiler', pv.compiler],
                ['BLAS', pv.blas], ['threads', String(pv.threads)],
                ['spec hash', h('code', { title: pv.spec_hash || '' }, (pv.spec_hash || '—').slice(0, 16))]);
        }
        for (const [k, v] of info) append(infoEl, [h('dt', {}, k), h('dd', { dataset: { info: k } }, v)]);
        renderWatch();
        clear(evalEl);
        const e = run.eval || {};
        // the catalog's order, then any figure it does not know
        const keys = evalNames.filter((n) => n in e).concat(
            Object.keys(e).filter((n) => !evalNames.includes(n)).sort());
        if (!keys.length) append(evalEl, [h('dt', {}, 'none yet'), h('dd', {}, '')]);
        for (const k of keys) {
            append(evalEl, [h('dt', { title: helpOf(k), dataset: { metric: k } }, label(k)),
                h('dd', {}, fmtMetric(k, e[k], run.spec && run.spec.dataset &&
                    run.spec.dataset.name))]);
        }
        specEl.textContent = JSON.stringify(run.spec || {}, null, 2);
        renderClasses();
        document.title = `${run.name || 'run ' + id} · ganctl`;
    };

    const refreshRun = async () => {
        try {
            run = await api(`${API}/runs/${id}`);
            if (!closed) renderHead();
        } catch (e) { /* the next event tries again */ }
    };

    const render = () => {
        clear(root);
        const wass = (run.spec || {}).loss === 'wasserstein';
        for (const c of TRAIN_CHARTS) {
            if (c.when && !c.when(run.spec || {})) continue;
            // only a wasserstein run has the estimate to plot with its losses
            const names = c.names.filter((n) => n !== 'wasserstein' || wass);
            const series = names.map((n, i) => ({ label: label(n), color: PALETTE[i % PALETTE.length],
                fmt: (v) => fmtMetric(n, v) }));
            charts.push({ names, chart: null, def: c, series });
        }
        append(root, [headEl, errEl, h('div', { class: 'run-grid' },
            chartsEl,
            h('div', { class: 'side' },
                h('section', { class: 'panel sample' }, h('h2', {}, 'Samples'), sampleEmpty,
                    sampleImg, sliderRow),
                plane.el,
                h('section', { class: 'panel' }, h('h2', {}, 'Watchdog'), watchEl),
                // a task run translates pictures; the others draw from noise
                run.spec && run.spec.task ? translatePanel(id, run.spec) :
                    h('section', { class: 'panel generate' }, h('h2', {}, 'Generate'),
                        h('div', { class: 'row' }, h('label', {}, 'n', genN),
                            h('label', {}, 'seed', genSeed), genBtn),
                        genClasses, genMsg, genImg),
                h('section', { class: 'panel' }, h('h2', {}, 'Evaluation'), evalEl),
                h('section', { class: 'panel' }, h('h2', {}, 'Run'), infoEl),
                h('section', { class: 'panel' }, h('h2', {}, 'Checkpoints'),
                    h('table', { class: 'plain checkpoints' }, h('thead', {}, h('tr', {},
                        h('th', {}, 'step'), h('th', {}, 'size'), h('th', {}, 'sha256'), h('th', {}, ''))),
                    ckptBody)),
                h('section', { class: 'panel' }, h('h2', {}, 'Spec'), specEl)))]);
        for (const c of charts) {
            c.chart = new Chart(chartsEl, c.def.key, c.def.title, c.series, { sync: `run${id}` });
        }
        renderHead();
    };

    const onEvent = (ev) => {
        const t = ev.type;
        if (t === 'metrics') later('metrics', () => loadMetrics(false).catch(() => {}));
        if (t === 'eval') {
            later('metrics', () => loadMetrics(false).catch(() => {}));
            later('run', refreshRun);
        }
        if (t === 'sample') later('samples', () => loadSamples().catch(() => {}));
        if (t === 'checkpoint') later('ckpt', () => loadCheckpoints().catch(() => {}));
        if (t === 'status') later('run', refreshRun);
        if (t === 'alert') {
            // a rollback rewinds what the run stored: read it all again
            planes.clear();
            later('run', refreshRun);
            later('rewind', () => Promise.all([loadMetrics(true), loadSamples(), loadCheckpoints()])
                .catch(() => {}));
        }
        // progress and the latest figures come with the run object
        if (t === 'metrics') later('run', refreshRun);
    };

    (async () => {
        try {
            run = await api(`${API}/runs/${id}`);
        } catch (e) {
            clear(root).append(h('h1', {}, `Run ${id}`), errorBox(e));
            return;
        }
        if (closed) return;
        render();
        await Promise.all([loadMetrics(true), loadSamples(), loadCheckpoints()].map((p) =>
            p.catch((e) => { if (!closed) errEl.append(errorBox(e)); })));
        if (closed) return;
        // Every (re)connection catches up on what happened while no stream was open:
        // after a drop, and also the first time, since a short run can finish
        // between the fetches above and the stream's start (the stream replays
        // nothing on a first connection).
        stream = openStream(`${API}/runs/${id}/events`, onEvent, () => {
            later('run', refreshRun);
            later('metrics', () => loadMetrics(false).catch(() => {}));
            later('samples', () => loadSamples().catch(() => {}));
            later('ckpt', () => loadCheckpoints().catch(() => {}));
        });
    })();

    return () => {
        closed = true;
        if (stream) stream.close();
        later.cancel();
        for (const c of charts) if (c.chart) c.chart.destroy();
        for (const c of evalCharts.values()) c.destroy();
        for (const img of [sampleImg, genImg]) {
            if (img.dataset.objectUrl) URL.revokeObjectURL(img.dataset.objectUrl);
        }
        document.title = 'ganctl';
    };
}
