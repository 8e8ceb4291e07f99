/* views/runs.js — #/ and #/?status=S: the runs table, newest first, 50 rows a page,
 * filtered by status, kept current by GET /api/v1/events; a running run shows the
 * daemon (worker) training it. Rows picked with their checkboxes open in the
 * comparison view. */
import { API, ApiError, api } from '../api.js';
import { label } from '../catalog.js';
import { append, clear, errorBox, h, view } from '../dom.js';
import { debouncer, eventRun, openStream } from '../events.js';
import { age, fmtNum } from '../format.js';
import { datasetText, evalText, progressBar, statusBadge, tricksText } from '../summary.js';

const STATUSES = ['queued', 'running', 'paused', 'succeeded', 'failed', 'canceled'];

export function runsView(params) {
    const root = clear(view());
    const filter = STATUSES.includes(params.get('status')) ? params.get('status') : '';
    const rows = new Map();
    const runs = new Map();
    const selected = new Set();
    let cursor = null;
    const refresh = debouncer(400);
    const lossesLabel = `${label('loss_d')} / ${label('loss_g')}`;

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
            h('th', {}, 'Progress'), h('th', { class: 'num' }, lossesLabel),
            h('th', {}, 'Eval'), h('th', {}, 'Worker'), h('th', {}, 'Age'))),
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
        const spec = run.spec || {};
        const l = run.latest || {};
        return h('tr', { dataset: { run: run.id, status: run.status } },
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
            h('td', { class: 'num losses', 'data-label': lossesLabel },
                `${fmtNum(l.loss_d)} / ${fmtNum(l.loss_g)}`),
            h('td', { class: 'evalfig', 'data-label': 'eval' }, evalText(run)),
            h('td', { class: 'worker', 'data-label': 'worker', title: 'the daemon training it' },
                run.worker || '—'),
            h('td', { class: 'age', title: run.created_at || '' }, age(run.created_at)));
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
