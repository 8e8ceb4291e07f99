/* main.js — the ganctl dashboard's entry: one page, routed by the URL hash.
 *
 *   #/                   runs table (filter by status, live)     views/runs.js
 *   #/runs/ID            one run                                 views/run.js
 *   #/launch[?from=ID]   the launch form and JSON editor         views/launch.js
 *   #/compare?runs=A,B   curves of several runs overlaid, their
 *                        samples side by side                    views/compare.js
 *   #/sweeps[/ID]        sweeps; one ranked by its objective     views/sweeps.js
 *   #/workers            the daemons training the store's runs   views/workers.js
 *
 * It talks only to the REST API of docs/api.md (api.js, events.js), and loads the
 * daemon's catalog (catalog.js) before the first view: the views take their metric
 * labels, formats and spec choices from it. A view is a function that renders into
 * #view and returns its cleanup (closing streams, timers and charts), which runs when
 * the hash changes. */
import { loadCatalog } from './catalog.js';
import { clear, errorBox, h, view } from './dom.js';
import { compareView } from './views/compare.js';
import { launchView } from './views/launch.js';
import { runView } from './views/run.js';
import { runsView } from './views/runs.js';
import { sweepsView } from './views/sweeps.js';
import { workersView } from './views/workers.js';

function parseHash() {
    const raw = location.hash.replace(/^#/, '') || '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    return { path, params };
}

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
    } else if ((m = path.match(/^\/sweeps(?:\/(\d+))?$/))) {
        cleanup = sweepsView(m[1] ? Number(m[1]) : 0);
        nav = 'sweeps';
    } else if (path === '/workers') {
        cleanup = workersView();
        nav = 'workers';
    } else {
        cleanup = runsView(params);
        nav = 'runs';
    }
    for (const a of document.querySelectorAll('[data-nav]')) {
        a.classList.toggle('active', a.dataset.nav === nav);
    }
    window.scrollTo(0, 0);
}

async function start() {
    try {
        await loadCatalog();
    } catch (e) {
        clear(view()).append(h('h1', {}, 'ganctl'), errorBox(e),
            h('button', { onclick: start }, 'Try again'));
        return;
    }
    window.addEventListener('hashchange', route);
    route();
}

start();
