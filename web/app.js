/* app.js — the ganctl dashboard: one page, routed by the URL hash.
 *
 *   #/                   runs table (filter by status, live from /api/v1/events)
 *   #/runs/ID            one run: live curves, samples, checkpoints, generate, actions
 *   #/launch[?from=ID]   the launch form and raw JSON editor for the run spec
 *   #/compare?runs=A,B   curves of several runs overlaid
 *
 * It talks only to the REST API of design.md section 4. Event streams are read with
 * fetch() and a stream reader rather than EventSource, because EventSource cannot
 * send the Authorization header that a daemon with a token requires. Every string
 * from the API reaches the page through textContent, never as HTML. */
(function () {
    'use strict';

    const API = '/api/v1';
    const STATUSES = ['queued', 'running', 'paused', 'succeeded', 'failed', 'canceled'];
    const FINISHED = new Set(['succeeded', 'failed', 'canceled']);
    const TRAIN_METRICS = ['loss_d', 'loss_g', 'wasserstein', 'd_real', 'd_fake', 'grad_norm_d',
        'grad_norm_g', 'images_per_s'];
    const EVAL_METRICS = ['modes_covered', 'high_quality', 'reverse_kl', 'fid', 'class_coverage',
        'classifier_score', 'swd'];
    const METRIC_LABELS = {
        loss_d: 'loss_d', loss_g: 'loss_g', wasserstein: 'wasserstein estimate',
        d_real: 'D(x) real', d_fake: 'D(G(z)) fake', grad_norm_d: '|grad| D',
        grad_norm_g: '|grad| G', images_per_s: 'images/s', modes_covered: 'modes covered',
        high_quality: 'high quality', reverse_kl: 'reverse KL', fid: 'FID',
        class_coverage: 'class coverage', classifier_score: 'classifier score', swd: 'SWD',
    };
    const TRAIN_CHARTS = [
        { key: 'loss', title: 'Losses', names: ['loss_d', 'loss_g', 'wasserstein'] },
        { key: 'dout', title: 'Discriminator outputs', names: ['d_real', 'd_fake'] },
        { key: 'grad', title: 'Gradient norms', names: ['grad_norm_d', 'grad_norm_g'] },
        { key: 'speed', title: 'Throughput (images/s)', names: ['images_per_s'] },
    ];
    const PALETTE = ['#4e79a7', '#e15759', '#59a14f', '#f28e2b', '#b07aa1', '#76b7b2',
        '#edc948', '#ff9da7', '#9c755f', '#bab0ac'];
    const MAX_POINTS = 1000;

    /* ---------------------------------------------------------------- DOM helpers */

    const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'textContent']);

    function h(tag, props, ...kids) {
        const el = document.createElement(tag);
        for (const [k, v] of Object.entries(props || {})) {
            if (v == null || v === false) continue;
            if (k === 'class') el.className = v;
            else if (k === 'dataset') Object.assign(el.dataset, v);
            else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
            else if (PROPS.has(k)) el[k] = v;
            else el.setAttribute(k, v === true ? '' : String(v));
        }
        append(el, kids);
        return el;
    }

    function append(el, kids) {
        for (const kid of kids.flat(Infinity)) {
            if (kid == null || kid === false) continue;
            el.append(kid instanceof Node ? kid : String(kid));
        }
        return el;
    }

    function clear(el) {
        while (el.firstChild) el.removeChild(el.firstChild);
        return el;
    }

    let toastTimer = 0;
    function toast(msg) {
        const el = document.getElementById('toast');
        el.textContent = msg;
        el.hidden = false;
        clearTimeout(toastTimer);
        toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
    }

    function fmtNum(v) {
        if (v == null || typeof v !== 'number' || !isFinite(v)) return '—';
        const a = Math.abs(v);
        if (a === 0) return '0';
        if (a >= 10000) return Math.round(v).toLocaleString('en-US');
        if (a >= 100) return v.toFixed(1);
        if (a >= 0.01) return String(Number(v.toPrecision(4)));
        return v.toExponential(2);
    }

    /* An eval figure the way people read it: fractions as percentages, modes as counts. */
    function fmtMetric(name, v, spec) {
        if (typeof v !== 'number' || !isFinite(v)) return '—';
        if (name === 'high_quality') return `${(v * 100).toFixed(1)}%`;
        if (name === 'modes_covered') {
            const ds = spec && spec.dataset && spec.dataset.name;
            const all = ds === 'grid25' ? 25 : ds === 'ring8' ? 8 : 0;
            return all ? `${Math.round(v)} of ${all}` : String(Math.round(v));
        }
        return fmtNum(v);
    }

    function fmtBytes(n) {
        if (typeof n !== 'number') return '—';
        if (n < 1024) return n + ' B';
        if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
        return (n / 1048576).toFixed(1) + ' MiB';
    }

    function age(ts) {
        const t = Date.parse(ts || '');
        if (!isFinite(t)) return '—';
        const s = Math.max(0, (Date.now() - t) / 1000);
        if (s < 60) return Math.floor(s) + 's ago';
        if (s < 3600) return Math.floor(s / 60) + 'm ago';
        if (s < 86400) return Math.floor(s / 3600) + 'h ago';
        return Math.floor(s / 86400) + 'd ago';
    }

    function duration(a, b) {
        const t0 = Date.parse(a || ''), t1 = b ? Date.parse(b) : Date.now();
        if (!isFinite(t0) || !isFinite(t1)) return '—';
        let s = Math.max(0, Math.round((t1 - t0) / 1000));
        const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60);
        s %= 60;
        return hh ? `${hh}h ${mm}m` : mm ? `${mm}m ${s}s` : `${s}s`;
    }

    function statusBadge(st) {
        return h('span', { class: `status st-${st} ${st}`, dataset: { status: st } }, st);
    }

    function progressBar(run) {
        const steps = run.steps || (run.spec && run.spec.train && run.spec.train.steps) || 0;
        const step = run.step || 0;
        const pct = steps ? Math.min(100, (100 * step) / steps) : 0;
        return h('div', { class: `progress st-${run.status}`, title: `${pct.toFixed(1)}%` },
            h('span', { style: `width:${pct}%` }),
            h('em', {}, `${step.toLocaleString('en-US')} / ${steps.toLocaleString('en-US')}`));
    }

    function parseHash() {
        const raw = location.hash.replace(/^#/, '') || '/';
        const q = raw.indexOf('?');
        const path = q < 0 ? raw : raw.slice(0, q);
        const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
        return { path, params };
    }

    /* ---------------------------------------------------------------- API client */

    const TOKEN_KEY = 'ganctl.token';
    let tokenWait = null;

    function token() {
        return sessionStorage.getItem(TOKEN_KEY) || '';
    }

    function authHeaders(extra) {
        const hd = Object.assign({}, extra || {});
        const t = token();
        if (t) hd.Authorization = 'Bearer ' + t;
        return hd;
    }

    /* Asks once for the token however many requests were refused at the same time. */
    function askToken(refused) {
        if (tokenWait) return tokenWait;
        const dlg = document.getElementById('token-dialog');
        const form = document.getElementById('token-form');
        const input = document.getElementById('token-input');
        const msg = document.getElementById('token-msg');
        msg.hidden = !refused;
        msg.textContent = refused ? 'The daemon refused that token; try again.' : '';
        input.value = '';
        tokenWait = new Promise((resolve) => {
            const done = (e) => {
                e.preventDefault();
                const v = input.value.trim();
                if (!v) return;
                sessionStorage.setItem(TOKEN_KEY, v);
                form.removeEventListener('submit', done);
                dlg.close();
                tokenWait = null;
                resolve();
            };
            form.addEventListener('submit', done);
            // Without a token nothing works, so Escape does not dismiss the prompt.
            dlg.addEventListener('cancel', (e) => e.preventDefault());
            dlg.showModal();
            input.focus();
        });
        return tokenWait;
    }

    class ApiError extends Error {
        constructor(status, problem) {
            super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
            this.status = status;
            this.problem = problem || {};
        }
    }

    /* fetch() against the API with the token; on 401 asks for a token and tries again. */
    async function apiFetch(path, opts) {
        opts = opts || {};
        for (;;) {
            const sent = token();
            const init = { method: opts.method || 'GET', headers: authHeaders(opts.headers),
                cache: 'no-store', signal: opts.signal };
            if (opts.body !== undefined) {
                init.body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
                init.headers['Content-Type'] = 'application/json';
            }
            const res = await fetch(path.startsWith('/') ? path : API + '/' + path, init);
            if (res.status !== 401) return res;
            // ask only when no other request has put a new token in place meanwhile
            if (token() === sent) {
                if (sent) sessionStorage.removeItem(TOKEN_KEY);
                await askToken(!!sent);
            }
        }
    }

    async function problemOf(res) {
        const text = await res.text().catch(() => '');
        try {
            return JSON.parse(text);
        } catch (e) {
            return { title: res.statusText, detail: text.slice(0, 300) };
        }
    }

    async function api(path, opts) {
        const res = await apiFetch(path, opts);
        if (!res.ok) throw new ApiError(res.status, await problemOf(res));
        if (res.status === 204) return null;
        return res.json();
    }

    async function apiBlob(path, opts) {
        const res = await apiFetch(path, opts);
        if (!res.ok) throw new ApiError(res.status, await problemOf(res));
        return res.blob();
    }

    /* Shows an image from the API: straight from its URL when no token is needed, through
     * fetch() and an object URL when the request must carry the Authorization header. */
    async function showImage(img, url) {
        if (!token()) {
            img.src = url;
            return;
        }
        const blob = await apiBlob(url);
        if (img.dataset.objectUrl) URL.revokeObjectURL(img.dataset.objectUrl);
        const obj = URL.createObjectURL(blob);
        img.dataset.objectUrl = obj;
        img.src = obj;
    }

    function saveBlob(blob, filename) {
        const url = URL.createObjectURL(blob);
        const a = h('a', { href: url, download: filename, hidden: true });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
    }

    /* ---------------------------------------------------------------- event streams */

    /* The top bar's dot: hidden on pages without a stream, "connecting" until one is up. */
    let streamsOpen = 0;
    let streamsUp = 0;
    function setLive(dOpen, dUp) {
        streamsOpen += dOpen;
        streamsUp += dUp;
        const el = document.getElementById('live');
        el.hidden = streamsOpen === 0;
        el.classList.toggle('on', streamsUp > 0);
        el.textContent = streamsUp > 0 ? 'live' : 'connecting…';
    }

    /* Reads a text/event-stream with fetch(): reconnects with back-off, resumes with
     * Last-Event-ID, ignores comment heartbeats. onEvent gets {type, id, data} where data
     * is the parsed JSON when it parses. onOpen runs on each (re)connection. */
    function openStream(path, onEvent, onOpen) {
        let stopped = false;
        let ctrl = null;
        let lastId = '';
        let retry = 1000;
        let connected = false;

        const dispatch = (ev) => {
            let data = ev.data;
            try {
                data = JSON.parse(ev.data);
            } catch (e) { /* plain text payload */ }
            try {
                onEvent({ type: ev.type || 'message', id: ev.id, data });
            } catch (e) {
                console.warn('ganctl: event handler failed', e);
            }
        };

        const run = async () => {
            while (!stopped) {
                ctrl = new AbortController();
                try {
                    const hd = { Accept: 'text/event-stream' };
                    if (lastId) hd['Last-Event-ID'] = lastId;
                    const res = await apiFetch(path, { headers: hd, signal: ctrl.signal });
                    if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
                    connected = true;
                    setLive(0, 1);
                    retry = 1000;
                    if (onOpen) onOpen();
                    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
                    let buf = '';
                    let ev = { type: '', data: [], id: '' };
                    for (;;) {
                        const { value, done } = await reader.read();
                        if (done) break;
                        buf += value;
                        let nl;
                        while ((nl = buf.indexOf('\n')) >= 0) {
                            let line = buf.slice(0, nl);
                            buf = buf.slice(nl + 1);
                            if (line.endsWith('\r')) line = line.slice(0, -1);
                            if (line === '') {
                                if (ev.data.length) {
                                    dispatch({ type: ev.type, id: lastId, data: ev.data.join('\n') });
                                }
                                ev = { type: '', data: [], id: '' };
                                continue;
                            }
                            if (line[0] === ':') continue;
                            const c = line.indexOf(':');
                            const field = c < 0 ? line : line.slice(0, c);
                            let val = c < 0 ? '' : line.slice(c + 1);
                            if (val[0] === ' ') val = val.slice(1);
                            if (field === 'event') ev.type = val;
                            else if (field === 'data') ev.data.push(val);
                            else if (field === 'id' && !val.includes('\0')) lastId = val;
                            else if (field === 'retry' && /^\d+$/.test(val)) retry = +val;
                        }
                    }
                } catch (e) {
                    if (stopped) break;
                }
                if (connected) {
                    connected = false;
                    setLive(0, -1);
                }
                if (stopped) break;
                await new Promise((r) => setTimeout(r, retry));
                retry = Math.min(retry * 2, 15000);
            }
        };
        setLive(1, 0);
        run();
        return {
            close() {
                if (stopped) return;
                stopped = true;
                if (ctrl) ctrl.abort();
                if (connected) {
                    connected = false;
                    setLive(0, -1);
                }
                setLive(-1, 0);
            },
        };
    }

    /* The run an event is about, whatever shape its payload has. */
    function eventRun(ev) {
        const d = ev.data;
        if (!d || typeof d !== 'object') return null;
        for (const k of ['run_id', 'run']) {
            const v = d[k];
            if (typeof v === 'number') return v;
            if (typeof v === 'string' && /^\d+$/.test(v)) return +v;
            if (v && typeof v === 'object' && typeof v.id === 'number') return v.id;
        }
        if (typeof d.id === 'number' && typeof d.status === 'string') return d.id;
        return null;
    }

    /* Runs fn at most once per wait ms, trailing, per key. */
    function debouncer(wait) {
        const timers = new Map();
        const fn = (key, f) => {
            if (timers.has(key)) return;
            timers.set(key, setTimeout(() => {
                timers.delete(key);
                f();
            }, wait));
        };
        fn.cancel = () => {
            for (const t of timers.values()) clearTimeout(t);
            timers.clear();
        };
        return fn;
    }

    /* ---------------------------------------------------------------- charts */

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

    /* Merges series with their own steps into uPlot's aligned columns. */
    function alignSeries(list) {
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

    /* A panel with one uPlot chart of step -> value; series are {label, color}. */
    class Chart {
        constructor(parent, key, title, series, opts) {
            this.opts = opts || {};
            this.series = series;
            this.plot = h('div', { class: 'plot' });
            this.nodata = h('div', { class: 'nodata' }, 'no data yet');
            this.plot.append(this.nodata);
            this.el = h('section', { class: 'panel chart', dataset: { chart: key, points: '0' } },
                h('h3', {}, title), this.plot);
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
                        spanGaps: true, value: (u, v) => fmtNum(v) }))),
                axes: [Object.assign({}, axis), Object.assign({ size: axisSize }, axis)],
                legend: { live: true },
                cursor: this.opts.sync ? { sync: { key: this.opts.sync } } : {},
            });
            this.u = new uPlot(o, this.data, this.plot);
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

    /* ---------------------------------------------------------------- run summaries */

    function specOf(run) {
        return run.spec || {};
    }

    function tricksText(spec) {
        const t = spec.tricks || {};
        const out = [];
        const ls = t.label_smoothing;
        if (Array.isArray(ls)) out.push(`smoothing ${ls[0]}–${ls[1]}`);
        else if (typeof ls === 'number') out.push(`smoothing ${ls}`);
        if (t.feature_matching) out.push('feature matching');
        if (t.unrolled_steps > 0) out.push(`unrolled ${t.unrolled_steps}`);
        if (t.generators > 1) out.push(`MAD-GAN ×${t.generators}`);
        if (typeof t.weight_clip === 'number' && t.weight_clip > 0) out.push(`clip ${t.weight_clip}`);
        if (typeof t.ema === 'number' && t.ema > 0) out.push(`EMA ${t.ema}`);
        const ld = spec.train && spec.train.lr_decay;
        if (ld && typeof ld === 'object') out.push(`lr decay ×${ld.factor} from ${ld.start} (${ld.shape})`);
        if (spec.model && spec.model.patch) out.push('PatchGAN');
        return out.join(', ');
    }

    function datasetText(spec) {
        const d = (spec.dataset && spec.dataset.name) || '?';
        const a = spec.model && spec.model.arch;
        return a ? `${d} · ${a}` : d;
    }

    function evalText(run) {
        const e = run.eval || {};
        const ds = specOf(run).dataset && specOf(run).dataset.name;
        const modes = ds === 'grid25' ? 25 : ds === 'ring8' ? 8 : null;
        const parts = [];
        if (typeof e.fid === 'number') parts.push(`FID ${fmtNum(e.fid)}`);
        if (typeof e.modes_covered === 'number') {
            parts.push(`${fmtNum(e.modes_covered)}${modes ? '/' + modes : ''} modes`);
        }
        if (typeof e.high_quality === 'number') parts.push(`HQ ${fmtMetric('high_quality', e.high_quality)}`);
        if (!parts.length && typeof e.swd === 'number') parts.push(`SWD ${fmtNum(e.swd)}`);
        if (!parts.length && typeof e.class_coverage === 'number') {
            parts.push(`coverage ${fmtNum(e.class_coverage)}`);
        }
        return parts.join(' · ') || '—';
    }

    /* ---------------------------------------------------------------- views */

    const view = () => document.getElementById('view');

    function errorBox(e) {
        const msg = e instanceof ApiError ? `${e.status}: ${e.message}` : String(e.message || e);
        return h('div', { class: 'error-box' }, msg);
    }

    /* ---- runs table */

    function runsView(params) {
        const root = clear(view());
        const filter = STATUSES.includes(params.get('status')) ? params.get('status') : '';
        const rows = new Map();
        const runs = new Map();
        const selected = new Set();
        let cursor = null;
        const refresh = debouncer(400);

        const compareBtn = h('button', { disabled: true, onclick: () => {
            location.hash = '#/compare?runs=' + Array.from(selected).sort((a, b) => a - b).join(',');
        } }, 'Compare selected');
        const chips = h('div', { class: 'chips', role: 'group', 'aria-label': 'Filter by status' },
            ['', ...STATUSES].map((s) => h('button', { 'aria-pressed': String(s === filter),
                dataset: { filter: s || 'all' },
                onclick: () => { location.hash = s ? `#/?status=${s}` : '#/'; } }, s || 'all')));
        const tbody = h('tbody');
        const table = h('table', { class: 'runs' },
            h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, 'Name'), h('th', {}, 'Dataset'),
                h('th', {}, 'Loss'), h('th', {}, 'Tricks'), h('th', {}, 'Status'),
                h('th', {}, 'Progress'), h('th', { class: 'num' }, 'loss_d / loss_g'),
                h('th', {}, 'Eval'), h('th', {}, 'Age'))),
            tbody);
        const empty = h('div', { class: 'empty', hidden: true },
            filter ? `No ${filter} runs.` : 'No runs yet. ', filter ? null :
                h('a', { href: '#/launch' }, 'Launch one.'));
        const moreBtn = h('button', { onclick: () => load(false) }, 'Load more');
        const more = h('div', { class: 'more', hidden: true }, moreBtn);
        const errSlot = h('div');
        append(root, [h('div', { class: 'page-head' }, h('h1', {}, 'Runs'), chips,
            h('span', { class: 'spacer' }), compareBtn,
            h('a', { class: 'button primary', href: '#/launch' }, 'Launch a run')),
        errSlot, h('div', { class: 'panel' }, h('div', { class: 'table-wrap' }, table), empty, more)]);

        const updateCompare = () => {
            compareBtn.disabled = selected.size < 2;
            compareBtn.textContent = selected.size ? `Compare selected (${selected.size})` :
                'Compare selected';
        };

        const renderRow = (run) => {
            const spec = specOf(run);
            const l = run.latest || {};
            const tr = h('tr', { dataset: { run: run.id, status: run.status } },
                h('td', { class: 'pick' }, h('input', { type: 'checkbox', 'aria-label': `select run ${run.id}`,
                    checked: selected.has(run.id), onchange: (e) => {
                        if (e.target.checked) selected.add(run.id);
                        else selected.delete(run.id);
                        updateCompare();
                    } })),
                h('td', { class: 'name' }, h('a', { href: `#/runs/${run.id}` }, run.name || `run ${run.id}`),
                    h('span', { class: 'id' }, `#${run.id}`)),
                h('td', { class: 'data-cell' }, datasetText(spec)),
                h('td', { class: 'loss-cell', 'data-label': 'loss' }, spec.loss || '—'),
                h('td', { class: tricksText(spec) ? 'tricks' : 'tricks none' }, tricksText(spec) || '—'),
                h('td', { class: 'status-cell', title: run.error || null }, statusBadge(run.status)),
                h('td', { class: 'prog' }, progressBar(run)),
                h('td', { class: 'num losses', 'data-label': 'loss_d / loss_g' },
                    `${fmtNum(l.loss_d)} / ${fmtNum(l.loss_g)}`),
                h('td', { class: 'evalfig', 'data-label': 'eval' }, evalText(run)),
                h('td', { class: 'age', title: run.created_at || '' }, age(run.created_at)));
            return tr;
        };

        /* Puts a run's row in place: replaced where it is, else in id order (newest
         * first). fromList: it came with a page of the list, so it goes at the end. */
        const place = (run, fromList) => {
            const old = rows.get(run.id);
            const prev = runs.get(run.id);
            if (filter && run.status !== filter) {
                if (old) old.remove();
                rows.delete(run.id);
                runs.delete(run.id);
                empty.hidden = rows.size > 0;
                return;
            }
            const tr = renderRow(run);
            if (old) {
                if (prev && prev.status !== run.status) tr.classList.add('flash');
                old.replaceWith(tr);
            } else {
                let before = null;
                for (const [id, r] of rows) {
                    if (id < run.id && (!before || id > +before.dataset.run)) before = r;
                }
                if (before) tbody.insertBefore(tr, before);
                else if (fromList || !cursor) tbody.append(tr);
                else return; // older than the rows shown: it comes with "Load more"
                if (!fromList) tr.classList.add('flash');
            }
            runs.set(run.id, run);
            rows.set(run.id, tr);
            empty.hidden = rows.size > 0;
        };

        const load = async (first) => {
            const q = new URLSearchParams({ limit: '50' });
            if (filter) q.set('status', filter);
            if (!first && cursor) q.set('cursor', cursor);
            moreBtn.disabled = true;
            try {
                const res = await api(`${API}/runs?${q}`);
                clear(errSlot);
                for (const run of res.runs || []) place(run, true);
                cursor = res.next_cursor || null;
                more.hidden = !cursor;
                empty.hidden = rows.size > 0;
            } catch (e) {
                clear(errSlot).append(errorBox(e));
            } finally {
                moreBtn.disabled = false;
            }
        };

        const refreshRun = (id) => refresh(id, async () => {
            try {
                place(await api(`${API}/runs/${id}`));
            } catch (e) {
                if (e instanceof ApiError && e.status === 404 && rows.has(id)) {
                    rows.get(id).remove();
                    rows.delete(id);
                    runs.delete(id);
                }
            }
        });

        let opened = false;
        const stream = openStream(`${API}/events`, (ev) => {
            const id = eventRun(ev);
            const d = ev.data;
            // a status event carries the whole run object
            if (ev.type === 'status' && d && d.id === id && typeof d.status === 'string' && d.spec) place(d);
            else if (id != null) refreshRun(id);
            else refresh('all', () => load(true));
        }, () => {
            // a reconnection may have missed events: reread the first page
            if (opened) refresh('all', () => load(true));
            opened = true;
        });
        const ticker = setInterval(() => {
            for (const [id, tr] of rows) {
                const cell = tr.querySelector('td.age');
                if (cell && runs.get(id)) cell.textContent = age(runs.get(id).created_at);
            }
        }, 15000);
        load(true);
        return () => {
            stream.close();
            refresh.cancel();
            clearInterval(ticker);
        };
    }

    /* ---- one run */

    function metricQuery(names, from) {
        const q = new URLSearchParams();
        for (const n of names) q.append('name', n);
        if (from != null) q.set('from_step', String(from));
        q.set('max_points', String(MAX_POINTS));
        return q;
    }

    /* Keeps the points of several metrics of one run and fetches only what is new. */
    class SeriesStore {
        constructor(runId, names) {
            this.runId = runId;
            this.names = names;
            this.map = new Map(names.map((n) => [n, { steps: [], vals: [] }]));
            this.last = -1;
        }

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

        get(name) {
            return this.map.get(name) || { steps: [], vals: [] };
        }

        has(name) {
            return this.get(name).steps.length > 0;
        }
    }

    function csvOf(store, names) {
        const cols = names.filter((n) => store.has(n));
        const rows = alignSeries(cols.map((n) => store.get(n)));
        const lines = [['step', ...cols].join(',')];
        for (let i = 0; i < rows[0].length; i++) {
            lines.push([rows[0][i], ...cols.map((_, j) => (rows[j + 1][i] == null ? '' : rows[j + 1][i]))]
                .join(','));
        }
        return lines.join('\n') + '\n';
    }

    function runView(id) {
        const root = clear(view());
        root.append(h('div', { class: 'loading' }, 'Loading run…'));
        let run = null;
        let closed = false;
        const charts = [];
        const evalCharts = new Map();
        const train = new SeriesStore(id, TRAIN_METRICS);
        const evals = new SeriesStore(id, EVAL_METRICS);
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
        const ckptBody = h('tbody');
        const specEl = h('pre', { 'data-role': 'spec' });
        const infoEl = h('dl', { class: 'kv' });
        const genN = h('input', { type: 'text', inputmode: 'numeric', value: '64', 'aria-label': 'n' });
        const genSeed = h('input', { type: 'text', inputmode: 'numeric', value: '1', 'aria-label': 'seed' });
        const genImg = h('img', { alt: 'generated samples', hidden: true, 'data-role': 'generated' });
        const genMsg = h('div', { class: 'muted' });
        const genBtn = h('button', { onclick: () => generate() }, 'Generate');

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

        const evalChart = (name) => {
            if (evalCharts.has(name)) return evalCharts.get(name);
            const c = new Chart(chartsEl, `eval-${name}`, `Eval: ${METRIC_LABELS[name] || name}`,
                [{ label: METRIC_LABELS[name] || name, color: PALETTE[(EVAL_METRICS.indexOf(name) + 2) % PALETTE.length] }],
                { sync: `run${id}` });
            evalCharts.set(name, c);
            return c;
        };

        const drawCharts = () => {
            for (const c of charts) c.chart.setData(c.names.map((n) => train.get(n)));
            for (const n of EVAL_METRICS) if (evals.has(n)) evalChart(n).setData([evals.get(n)]);
        };

        const loadMetrics = async (full) => {
            await Promise.all([train.load(full), evals.load(full)]);
            if (!closed) drawCharts();
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
                const known = TRAIN_METRICS.concat(EVAL_METRICS);
                const names = known.filter((n) => n in m).concat(
                    Object.keys(m).filter((n) => !known.includes(n)).sort());
                const all = new SeriesStore(id, names);
                for (const n of names) {
                    all.map.set(n, { steps: m[n].map((p) => p[0]), vals: m[n].map((p) => p[1]) });
                }
                saveBlob(new Blob([csvOf(all, names)], { type: 'text/csv' }),
                    `run-${id}-metrics.csv`);
            } catch (e) {
                toast(`export: ${e.message}`);
            }
        };

        const generate = async () => {
            const n = Number(genN.value), seed = Number(genSeed.value);
            genBtn.disabled = true;
            genMsg.textContent = 'Generating…';
            const t0 = performance.now();
            try {
                const blob = await apiBlob(`${API}/runs/${id}/generate`, { method: 'POST',
                    body: { n: Number.isFinite(n) ? n : genN.value,
                        seed: Number.isFinite(seed) ? seed : genSeed.value, format: 'png' } });
                if (genImg.dataset.objectUrl) URL.revokeObjectURL(genImg.dataset.objectUrl);
                const url = URL.createObjectURL(blob);
                genImg.dataset.objectUrl = url;
                genImg.src = url;
                genImg.hidden = false;
                genMsg.textContent = `${n} samples, seed ${seed}, in ${Math.round(performance.now() - t0)} ms`;
            } catch (e) {
                genMsg.textContent = e.message;
            } finally {
                genBtn.disabled = false;
            }
        };

        const renderHead = () => {
            const st = run.status;
            const btn = (verb, label, enabled, cls) => h('button', { class: cls, disabled: !enabled,
                dataset: { action: verb }, onclick: () => act(verb) }, label);
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
                h('a', { class: 'button', href: `#/launch?from=${id}` }, 'Clone'),
                btn('delete', 'Delete', st !== 'queued' && st !== 'running', 'danger'),
            ]);
            clear(errEl);
            if (run.error) errEl.append(h('div', { class: 'error-box' }, `Run failed: ${run.error}`));
            clear(infoEl);
            const spec = specOf(run);
            const info = [['dataset', datasetText(spec)], ['loss', spec.loss || '—'],
                ['tricks', tricksText(spec) || 'none'], ['created', run.created_at || '—'],
                ['started', run.started_at || '—'], ['finished', run.finished_at || '—'],
                ['running for', run.started_at ? duration(run.started_at, run.finished_at) : '—']];
            for (const [k, v] of info) append(infoEl, [h('dt', {}, k), h('dd', {}, v)]);
            clear(evalEl);
            const e = run.eval || {};
            const keys = Object.keys(e);
            if (!keys.length) append(evalEl, [h('dt', {}, 'none yet'), h('dd', {}, '')]);
            for (const k of keys) {
                append(evalEl, [h('dt', {}, METRIC_LABELS[k] || k), h('dd', {}, fmtMetric(k, e[k], spec))]);
            }
            specEl.textContent = JSON.stringify(run.spec || {}, null, 2);
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
            const wass = specOf(run).loss === 'wasserstein';
            for (const c of TRAIN_CHARTS) {
                // only a wasserstein run has the estimate to plot with its losses
                const names = c.names.filter((n) => n !== 'wasserstein' || wass);
                const series = names.map((n, i) => ({ label: METRIC_LABELS[n] || n,
                    color: PALETTE[i % PALETTE.length] }));
                charts.push({ names, chart: null, def: c, series });
            }
            append(root, [headEl, errEl, h('div', { class: 'run-grid' },
                chartsEl,
                h('div', { class: 'side' },
                    h('section', { class: 'panel sample' }, h('h2', {}, 'Samples'), sampleEmpty,
                        sampleImg, sliderRow),
                    h('section', { class: 'panel generate' }, h('h2', {}, 'Generate'),
                        h('div', { class: 'row' }, h('label', {}, 'n', genN), h('label', {}, 'seed', genSeed),
                            genBtn),
                        genMsg, genImg),
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

    /* ---- launch form */

    const DATASETS = ['fashion-mnist', 'idx', 'png-dir', 'ring8', 'grid25'];
    const LOSSES = ['nonsaturating', 'minimax', 'wasserstein', 'least-squares', 'hinge'];
    const is2d = (ds) => ds === 'ring8' || ds === 'grid25';

    /* The defaults of design.md section 3 and core/spec.c (they depend on the dataset
     * and the loss; the 2D mixtures have their own tuned set). */
    const DECAY_FIELDS = { start: 0.5, factor: 0.01, shape: 'linear' };
    const DECAY_2D = { start: 0.5, factor: 0.01, shape: 'linear' };
    const EMA_2D = null;
    function specDefaults(ds, loss) {
        const w = loss === 'wasserstein';
        const d2 = is2d(ds);
        const lr = d2 && !w ? 0.001 : 0.0002;
        const opt = () => (w ? { kind: 'rmsprop', lr: 0.00005, beta1: 0, beta2: 0.99, eps: 1e-8 } :
            { kind: 'adam', lr, beta1: 0.5, beta2: 0.999, eps: 1e-8 });
        return {
            name: '',
            dataset: { name: ds, split: 'train', classes: null, path: null,
                image_size: ds === 'png-dir' ? 32 : null, channels: ds === 'png-dir' ? 3 : null },
            model: { arch: d2 ? 'mlp' : 'dcgan', z_dim: d2 ? 16 : 100, g_width: 64, d_width: 64,
                hidden: 128, layers: d2 ? 4 : 2, batch_norm: !d2, patch: false },
            loss,
            train: { steps: d2 ? 20000 : 5000, batch_size: ds === 'grid25' ? 250 : d2 ? 100 : 64,
                d_steps: w ? 5 : 1, seed: 1, lr_decay: d2 && DECAY_2D ? { ...DECAY_2D } : null },
            optimizer: { g: opt(), d: opt() },
            tricks: { label_smoothing: null, feature_matching: false, unrolled_steps: 0,
                generators: 1, weight_clip: w ? 0.01 : null, ema: d2 ? EMA_2D : null },
            every: { log: 10, sample: 200, checkpoint: 1000, eval: 1000 },
        };
    }

    const getPath = (o, path) => path.split('.').reduce((a, k) => (a == null ? undefined : a[k]), o);
    function setPath(o, path, v) {
        const ks = path.split('.');
        let cur = o;
        for (const k of ks.slice(0, -1)) {
            if (cur[k] == null || typeof cur[k] !== 'object') cur[k] = {};
            cur = cur[k];
        }
        cur[ks[ks.length - 1]] = v;
    }

    const isDcgan = (s) => s.model.arch === 'dcgan';
    const isMlp = (s) => s.model.arch === 'mlp';
    const optimFields = (who) => [
        { path: `optimizer.${who}.kind`, label: 'kind', type: 'select', options: ['adam', 'sgd', 'rmsprop'],
            hint: 'adam; sgd with momentum; rmsprop (the Wasserstein default)' },
        { path: `optimizer.${who}.lr`, label: 'learning rate', type: 'float', hint: 'in (0, 10]; 2e-4 for adam, 5e-5 for rmsprop' },
        { path: `optimizer.${who}.beta1`, label: 'beta1', type: 'float', hint: 'adam β1 or sgd momentum, in [0, 1)' },
        { path: `optimizer.${who}.beta2`, label: 'beta2', type: 'float', hint: 'adam β2 or rmsprop decay, in [0, 1)' },
        { path: `optimizer.${who}.eps`, label: 'eps', type: 'float', hint: 'adam and rmsprop epsilon, in (0, 1)' },
    ];
    const FORM = [
        { legend: 'Run', fields: [
            { path: 'name', label: 'name', type: 'text', hint: 'shown in the run list; empty: <dataset>-<loss>' },
            { path: 'loss', label: 'loss', type: 'select', options: LOSSES,
                hint: 'nonsaturating, minimax, wasserstein (critic with weight clipping), least-squares, hinge' },
        ] },
        { legend: 'Dataset', fields: [
            { path: 'dataset.name', label: 'dataset', type: 'select', options: DATASETS,
                hint: 'fashion-mnist images, an IDX3 file, a folder of PNGs, or the 2D mixtures ring8 / grid25' },
            { path: 'dataset.split', label: 'split', type: 'select', options: ['train', 'test'],
                when: (s) => s.dataset.name === 'fashion-mnist', hint: 'fashion-mnist only' },
            { path: 'dataset.classes', label: 'classes', type: 'classes',
                when: (s) => s.dataset.name === 'fashion-mnist', hint: 'keep only these labels, e.g. 0,7,9; empty: all ten' },
            { path: 'dataset.path', label: 'path', type: 'text',
                when: (s) => s.dataset.name === 'idx' || s.dataset.name === 'png-dir',
                hint: 'idx: an IDX3 image file (gz or not); png-dir: a folder of PNGs; inside the daemon\'s dataset folder' },
            { path: 'dataset.image_size', label: 'image size', type: 'int',
                when: (s) => s.dataset.name === 'png-dir', hint: 'png-dir: side after scaling and center crop, 8 to 256' },
            { path: 'dataset.channels', label: 'channels', type: 'select', options: [1, 3],
                when: (s) => s.dataset.name === 'png-dir', hint: 'png-dir: 1 gray or 3 RGB' },
        ] },
        { legend: 'Model', fields: [
            { path: 'model.arch', label: 'architecture', type: 'select', options: ['mlp', 'dcgan'],
                hint: 'mlp for 2D sets (required there); dcgan for images' },
            { path: 'model.z_dim', label: 'z_dim', type: 'int', hint: 'latent size, 1 to 4096' },
            { path: 'model.g_width', label: 'g_width', type: 'int', when: isDcgan, hint: 'dcgan: generator base width, 1 to 1024' },
            { path: 'model.d_width', label: 'd_width', type: 'int', when: isDcgan, hint: 'dcgan: discriminator base width, 1 to 1024' },
            { path: 'model.hidden', label: 'hidden', type: 'int', when: isMlp, hint: 'mlp: units per hidden layer' },
            { path: 'model.layers', label: 'layers', type: 'int', when: isMlp, hint: 'mlp: hidden layers, 1 to 16' },
            { path: 'model.batch_norm', label: 'batch norm', type: 'bool', hint: 'batch normalization in the generator' },
            { path: 'model.patch', label: 'PatchGAN', type: 'bool', when: isDcgan,
                hint: 'dcgan: D gives a map of logits, loss averaged over patches' },
        ] },
        { legend: 'Training', fields: [
            { path: 'train.steps', label: 'steps', type: 'int', hint: 'generator steps, 1 to 10,000,000' },
            { path: 'train.batch_size', label: 'batch size', type: 'int', hint: '1 to 4096' },
            { path: 'train.d_steps', label: 'd_steps', type: 'int', hint: 'discriminator steps per generator step (5 for wasserstein)' },
            { path: 'train.seed', label: 'seed', type: 'int', hint: 'same seed, same run, bit for bit' },
            { path: 'train.lr_decay', label: 'lr decay', type: 'decay',
                hint: 'both learning rates fall from the fraction start of the run to factor × their value at the end, linearly or at once (step); none: constant' },
        ] },
        { legend: 'Generator optimizer', fields: optimFields('g') },
        { legend: 'Discriminator optimizer', fields: optimFields('d') },
        { legend: 'Tricks', fields: [
            { path: 'tricks.label_smoothing', label: 'label smoothing', type: 'smoothing',
                hint: 'real label fixed, or drawn from [lo, hi] each step (minimax, nonsaturating, least-squares)' },
            { path: 'tricks.feature_matching', label: 'feature matching', type: 'bool',
                hint: 'G matches mean features of real and fake batches at D\'s last hidden layer' },
            { path: 'tricks.unrolled_steps', label: 'unrolled steps', type: 'int',
                hint: 'k > 0: G looks k discriminator steps ahead (0 to 20)' },
            { path: 'tricks.generators', label: 'generators', type: 'int',
                hint: 'K > 1: MAD-GAN, K generators against one (K+1)-way D (1 to 16)' },
            { path: 'tricks.weight_clip', label: 'weight clip', type: 'optfloat',
                hint: 'wasserstein critic clipping c (default 0.01); empty: none' },
            { path: 'tricks.ema', label: 'weight average', type: 'optfloat',
                hint: 'decay in (0, 1), e.g. 0.999: samples and evaluations use a moving average of G\'s weights; empty: none' },
        ] },
        { legend: 'Every (steps; 0 turns it off)', fields: [
            { path: 'every.log', label: 'log', type: 'int', hint: 'metrics' },
            { path: 'every.sample', label: 'sample', type: 'int', hint: 'a sample grid' },
            { path: 'every.checkpoint', label: 'checkpoint', type: 'int', hint: 'a checkpoint to resume from' },
            { path: 'every.eval', label: 'eval', type: 'int', hint: 'the evaluation (modes, FID, SWD, ...)' },
        ] },
    ];

    /* A number typed in a text box: the number when it is one, else the text as typed, so
     * that the API names the field in its error rather than the page guessing. */
    function numOrText(s, int) {
        const t = s.trim();
        if (t === '') return undefined;
        const n = Number(t);
        if (!Number.isFinite(n) || (int && !Number.isInteger(n))) return t;
        return n;
    }

    function launchView(params) {
        const root = clear(view());
        const controls = new Map(); // path -> {field, wrap, get(), set(v), touched}
        let defaults = specDefaults('ring8', 'nonsaturating');
        let mode = 'form';

        const formErr = h('div', { class: 'form-errors' });
        const groupsEl = h('div', { class: 'groups' });
        const jsonArea = h('textarea', { class: 'json', spellcheck: 'false', 'aria-label': 'run spec as JSON',
            'data-role': 'json' });
        const jsonPane = h('div', { hidden: true }, jsonArea,
            h('p', { class: 'muted' }, 'The spec as sent to POST /api/v1/runs; fields left out take their defaults.'));
        const submitBtn = h('button', { type: 'submit', class: 'primary' }, 'Launch');
        const tabForm = h('button', { type: 'button', role: 'tab', 'aria-selected': 'true',
            onclick: () => switchMode('form') }, 'Form');
        const tabJson = h('button', { type: 'button', role: 'tab', 'aria-selected': 'false',
            onclick: () => switchMode('json') }, 'JSON');

        const makeControl = (f) => {
            const id = 'f-' + f.path.replace(/\./g, '-');
            let input;
            let extra = null;
            let get;
            let set;
            if (f.type === 'select') {
                input = h('select', { id }, f.options.map((o) => h('option', { value: String(o) }, String(o))));
                get = () => (typeof f.options[0] === 'number' ? Number(input.value) : input.value);
                set = (v) => { input.value = v == null ? String(f.options[0]) : String(v); };
            } else if (f.type === 'bool') {
                input = h('input', { id, type: 'checkbox' });
                get = () => input.checked;
                set = (v) => { input.checked = !!v; };
            } else if (f.type === 'smoothing') {
                input = h('select', { id }, ['none', 'fixed', 'range'].map((o) => h('option', { value: o }, o)));
                const lo = h('input', { type: 'text', inputmode: 'decimal', 'aria-label': 'smoothing value', value: '0.9' });
                const hi = h('input', { type: 'text', inputmode: 'decimal', 'aria-label': 'smoothing high', value: '1.0' });
                const sync = () => {
                    lo.hidden = input.value === 'none';
                    hi.hidden = input.value !== 'range';
                };
                input.addEventListener('change', () => {
                    if (input.value === 'range' && lo.value === '0.9') lo.value = '0.8';
                    sync();
                });
                extra = [lo, hi];
                get = () => {
                    if (input.value === 'none') return null;
                    if (input.value === 'fixed') return numOrText(lo.value) ?? null;
                    return [numOrText(lo.value) ?? null, numOrText(hi.value) ?? null];
                };
                set = (v) => {
                    if (Array.isArray(v)) {
                        input.value = 'range';
                        lo.value = String(v[0]);
                        hi.value = String(v[1]);
                    } else if (typeof v === 'number') {
                        input.value = 'fixed';
                        lo.value = String(v);
                    } else {
                        input.value = 'none';
                    }
                    sync();
                };
            } else if (f.type === 'decay') {
                input = h('select', { id }, ['none', 'linear', 'step'].map((o) => h('option', { value: o }, o)));
                const start = h('input', { type: 'text', inputmode: 'decimal', 'aria-label': 'lr decay start',
                    title: 'start: fraction of the steps at the full rate, in [0, 1)',
                    value: String(DECAY_FIELDS.start) });
                const factor = h('input', { type: 'text', inputmode: 'decimal', 'aria-label': 'lr decay factor',
                    title: 'factor: final rate over the optimizer\'s rate, in (0, 1]',
                    value: String(DECAY_FIELDS.factor) });
                const sync = () => {
                    start.hidden = factor.hidden = input.value === 'none';
                };
                input.addEventListener('change', sync);
                extra = [start, factor];
                get = () => {
                    if (input.value === 'none') return null;
                    return { start: numOrText(start.value) ?? DECAY_FIELDS.start,
                        factor: numOrText(factor.value) ?? DECAY_FIELDS.factor, shape: input.value };
                };
                set = (v) => {
                    if (v && typeof v === 'object') {
                        input.value = v.shape === 'step' ? 'step' : 'linear';
                        start.value = String(v.start ?? DECAY_FIELDS.start);
                        factor.value = String(v.factor ?? DECAY_FIELDS.factor);
                    } else {
                        input.value = 'none';
                    }
                    sync();
                };
            } else {
                const numeric = f.type === 'int' || f.type === 'float' || f.type === 'optfloat';
                input = h('input', { id, type: 'text', autocomplete: 'off',
                    inputmode: f.type === 'int' ? 'numeric' : numeric ? 'decimal' : null,
                    placeholder: f.type === 'optfloat' ? 'none' : f.path === 'name' ? 'dataset-loss' : null });
                get = () => {
                    if (f.type === 'classes') {
                        const t = input.value.trim();
                        if (!t) return null;
                        return t.split(/[\s,]+/).filter(Boolean).map((p) => numOrText(p, true));
                    }
                    if (numeric) return numOrText(input.value, f.type === 'int') ?? null;
                    return input.value.trim() === '' ? null : input.value;
                };
                set = (v) => {
                    input.value = v == null ? '' : Array.isArray(v) ? v.join(',') : String(v);
                };
            }
            const errEl = h('div', { class: 'field-error', hidden: true, 'data-error-for': f.path });
            const wrap = h('div', { class: 'field', dataset: { field: f.path } },
                h('label', { for: id }, f.label),
                h('div', { class: 'control' }, input, extra),
                h('div', { class: 'hint' }, f.hint || ''), errEl);
            const c = { f, wrap, input, errEl, get, set, touched: false };
            const touch = () => {
                c.touched = true;
                clearError(c);
            };
            wrap.addEventListener('input', touch);
            wrap.addEventListener('change', touch);
            controls.set(f.path, c);
            return wrap;
        };

        for (const g of FORM) {
            groupsEl.append(h('fieldset', { dataset: { group: g.legend } }, h('legend', {}, g.legend),
                g.fields.map(makeControl)));
        }

        const clearError = (c) => {
            c.errEl.hidden = true;
            c.errEl.textContent = '';
            c.wrap.classList.remove('invalid');
        };
        const clearErrors = () => {
            for (const c of controls.values()) clearError(c);
            clear(formErr);
        };

        /* The spec the form describes: fields that do not apply are left out. */
        const readForm = () => {
            const s = {};
            const cur = { dataset: { name: controls.get('dataset.name').get() },
                model: { arch: controls.get('model.arch').get() } };
            for (const c of controls.values()) {
                if (c.f.when && !c.f.when(cur)) continue;
                const v = c.get();
                if (c.f.path === 'name' && v == null) continue;
                setPath(s, c.f.path, v);
            }
            // in the order of the spec in design.md, so the JSON tab reads like the docs
            const order = ['name', 'dataset', 'model', 'loss', 'train', 'optimizer', 'tricks', 'every'];
            return Object.fromEntries(order.filter((k) => k in s).map((k) => [k, s[k]]));
        };

        /* Greys out the fields that do not apply to the chosen dataset and architecture. */
        const applyWhen = () => {
            const cur = { dataset: { name: controls.get('dataset.name').get() },
                model: { arch: controls.get('model.arch').get() } };
            for (const c of controls.values()) {
                const on = !c.f.when || c.f.when(cur);
                c.wrap.classList.toggle('off', !on);
                for (const el of c.wrap.querySelectorAll('input, select')) el.disabled = !on;
            }
        };

        /* New defaults for a new dataset or loss, kept where the user typed something. */
        const applyDefaults = (force) => {
            defaults = specDefaults(controls.get('dataset.name').get(), controls.get('loss').get());
            for (const [path, c] of controls) {
                if (path === 'dataset.name' || path === 'loss') continue;
                if (force || !c.touched) c.set(getPath(defaults, path));
            }
            if (is2d(defaults.dataset.name)) controls.get('model.arch').set('mlp');
            applyWhen();
        };

        const fillForm = (spec) => {
            const ds = getPath(spec, 'dataset.name') || 'ring8';
            const loss = spec.loss || 'nonsaturating';
            controls.get('dataset.name').set(ds);
            controls.get('loss').set(loss);
            applyDefaults(true);
            for (const [path, c] of controls) {
                const v = getPath(spec, path);
                if (v !== undefined) {
                    c.set(v);
                    c.touched = true;
                }
            }
            applyWhen();
        };

        controls.get('dataset.name').input.addEventListener('change', () => applyDefaults(false));
        controls.get('loss').input.addEventListener('change', () => applyDefaults(false));
        controls.get('model.arch').input.addEventListener('change', applyWhen);

        const switchMode = (m) => {
            if (m === mode) return;
            if (m === 'json') {
                jsonArea.value = JSON.stringify(readForm(), null, 2);
            } else {
                let spec;
                try {
                    spec = JSON.parse(jsonArea.value);
                } catch (e) {
                    clear(formErr).append(h('div', { class: 'error-box' }, `The JSON does not parse: ${e.message}`));
                    return;
                }
                fillForm(spec || {});
            }
            mode = m;
            clear(formErr);
            tabForm.setAttribute('aria-selected', String(m === 'form'));
            tabJson.setAttribute('aria-selected', String(m === 'json'));
            groupsEl.hidden = m !== 'form';
            jsonPane.hidden = m !== 'json';
        };

        const showErrors = (err) => {
            const p = err.problem || {};
            const list = Array.isArray(p.errors) ? p.errors : [];
            const loose = [];
            for (const e of list) {
                const field = String(e.field || '');
                // the named field, else the nearest enclosing one the form has
                let c = null;
                for (let f = field; f && !c; f = f.includes('.') ? f.slice(0, f.lastIndexOf('.')) : '') {
                    c = controls.get(f) || null;
                }
                if (c && mode === 'form' && c.f.path === field) {
                    c.errEl.textContent = e.message || 'invalid';
                    c.errEl.hidden = false;
                    c.wrap.classList.add('invalid');
                } else {
                    loose.push(`${field || 'spec'}: ${e.message || 'invalid'}`);
                }
            }
            if (loose.length || !list.length) {
                // the field list says it all when there is one; else the detail does
                const detail = !loose.length && p.detail && p.detail !== p.title ? ` — ${p.detail}` : '';
                formErr.append(h('div', { class: 'error-box', 'data-role': 'form-error' },
                    (p.title || `HTTP ${err.status}`) + detail, loose.map((l) => h('div', {}, l))));
            }
            const first = root.querySelector('.field.invalid input, .field.invalid select');
            if (first) first.focus();
        };

        const submit = async (e) => {
            e.preventDefault();
            clearErrors();
            let body;
            if (mode === 'json') {
                body = jsonArea.value;
                try {
                    JSON.parse(body);
                } catch (err) {
                    formErr.append(h('div', { class: 'error-box' }, `The JSON does not parse: ${err.message}`));
                    return;
                }
            } else {
                body = readForm();
            }
            submitBtn.disabled = true;
            try {
                const run = await api(`${API}/runs`, { method: 'POST', body });
                toast(`Run ${run.id} queued`);
                location.hash = `#/runs/${run.id}`;
            } catch (err) {
                if (err instanceof ApiError) showErrors(err);
                else formErr.append(errorBox(err));
            } finally {
                submitBtn.disabled = false;
            }
        };

        const form = h('form', { class: 'launch', novalidate: true, onsubmit: submit },
            h('div', { class: 'page-head' }, h('h1', {}, 'Launch a run'), h('div', { class: 'tabs', role: 'tablist' },
                tabForm, tabJson), h('span', { class: 'spacer' }),
            h('button', { type: 'button', onclick: () => { applyDefaults(true); clearErrors(); } }, 'Reset to defaults')),
            formErr, groupsEl, jsonPane,
            h('div', { class: 'form-actions' }, submitBtn,
                h('span', { class: 'muted' }, 'The daemon checks the spec; problems show next to the field.')));
        root.append(form);
        fillForm({ dataset: { name: 'fashion-mnist' }, loss: 'nonsaturating' });
        for (const c of controls.values()) c.touched = false;

        const from = Number(params.get('from'));
        if (Number.isInteger(from) && from > 0) {
            api(`${API}/runs/${from}`).then((run) => {
                const spec = JSON.parse(JSON.stringify(run.spec || {}));
                spec.name = `${run.name || 'run'}-copy`;
                fillForm(spec);
                jsonArea.value = JSON.stringify(spec, null, 2);
            }, (e) => formErr.append(errorBox(e)));
        }
        return () => {};
    }

    /* ---- compare */

    function compareView(params) {
        const root = clear(view());
        const ids = (params.get('runs') || '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
        const chosen = new Set(ids);
        let metric = params.get('metric') || 'loss_d';
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
        } }, TRAIN_METRICS.concat(EVAL_METRICS).map((n) => h('option', { value: n, selected: n === metric },
            METRIC_LABELS[n] || n)));

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

        const label = (id) => {
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
            const names = [metric].concat(metric === 'loss_g' ? [] : metric === 'loss_d' ? ['loss_g'] : []);
            for (const n of names) {
                const c = new Chart(chartsEl, `compare-${n}`, METRIC_LABELS[n] || n,
                    sel.map((id, i) => ({ label: label(id), color: PALETTE[i % PALETTE.length] })),
                    { height: 320, sync: 'compare' });
                c.setData(sel.map((id) => stores.get(id).get(n)));
                c.el.dataset.series = String(sel.length);
                charts.push(c);
            }
        };

        const loadRun = async (id) => {
            const s = new SeriesStore(id, metric === 'loss_d' ? ['loss_d', 'loss_g'] : [metric]);
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

    /* ---------------------------------------------------------------- router */

    let cleanup = null;

    function route() {
        if (cleanup) {
            try {
                cleanup();
            } catch (e) {
                console.warn('ganctl: cleanup failed', e);
            }
            cleanup = null;
        }
        const { path, params } = parseHash();
        let m;
        let nav = '';
        if ((m = path.match(/^\/runs\/(\d+)$/))) {
            cleanup = runView(Number(m[1]));
            nav = 'runs';
        } else if (path === '/launch') {
            cleanup = launchView(params);
            nav = 'launch';
        } else if (path === '/compare') {
            cleanup = compareView(params);
            nav = 'compare';
        } else {
            cleanup = runsView(params);
            nav = 'runs';
        }
        for (const a of document.querySelectorAll('[data-nav]')) {
            a.classList.toggle('active', a.dataset.nav === nav);
        }
        window.scrollTo(0, 0);
    }

    window.addEventListener('hashchange', route);
    route();
})();
