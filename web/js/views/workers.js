/* views/workers.js — #/workers: the daemons that train the store's runs (GET
 * /api/v1/workers): one with SQLite, every daemon on the database with PostgreSQL.
 * Each with its state (alive while its heartbeat is younger than its lease), the runs
 * it trains (links to them), its capacity and the age of its heartbeat; the daemon
 * this page talks to is marked. Reread every few seconds and on every status event, so
 * a run moving to another daemon shows at once. */
import { API, api } from '../api.js';
import { append, clear, errorBox, h, view } from '../dom.js';
import { debouncer, openStream } from '../events.js';
import { age } from '../format.js';

const REREAD_MS = 3000;

export function workersView() {
    const root = clear(view());
    const tbody = h('tbody');
    const errSlot = h('div');
    const note = h('p', { class: 'muted' });
    const table = h('table', { class: 'runs workers' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'State'),
            h('th', {}, 'Training'), h('th', { class: 'num' }, 'Workers'),
            h('th', { class: 'num' }, 'Threads'), h('th', {}, 'Heartbeat'))),
        tbody);
    append(root, [h('div', { class: 'page-head' }, h('h1', {}, 'Workers')), errSlot,
        h('div', { class: 'panel' }, h('div', { class: 'table-wrap' }, table), note)]);

    const row = (w, self) => h('tr', { dataset: { worker: w.name, alive: String(!!w.alive) } },
        h('td', { class: 'name' }, w.name,
            w.name === self ? h('span', { class: 'id', title: 'the daemon this page talks to' },
                'this daemon') : null),
        h('td', {}, h('span', { class: `status ${w.alive ? 'st-running' : 'st-failed'}` },
            w.alive ? 'alive' : 'silent')),
        h('td', { class: 'training' }, (w.running || []).length ?
            (w.running || []).map((id, i) => [i ? ', ' : '',
                h('a', { href: `#/runs/${id}` }, `#${id}`)]) : h('span', { class: 'muted' }, 'idle')),
        h('td', { class: 'num' }, String(w.workers)),
        h('td', { class: 'num' }, String(w.threads)),
        h('td', { class: 'age', title: w.heartbeat_at || '' }, age(w.heartbeat_at)));

    const load = async () => {
        try {
            const res = await api(`${API}/workers`);
            clear(errSlot);
            clear(tbody);
            for (const w of res.workers || []) tbody.append(row(w, res.self));
            const n = (res.workers || []).length;
            note.textContent = n > 1 ? `${n} daemons share this store; any of them takes ` +
                'queued runs and shows every run.' : 'One daemon trains this store\'s runs.';
        } catch (e) {
            clear(errSlot).append(errorBox(e));
        }
    };

    const refresh = debouncer(300);
    const stream = openStream(`${API}/events`, (ev) => {
        if (ev.type === 'status') refresh('all', load);
    }, () => refresh('all', load));
    const timer = setInterval(load, REREAD_MS);
    load();
    return () => {
        stream.close();
        refresh.cancel();
        clearInterval(timer);
    };
}
