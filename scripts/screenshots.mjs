// screenshots.mjs — the README's pictures of the dashboard, taken in headless chromium
// (playwright-core) from a real daemon: the sweeps view, samples side by side in the
// compare view, the plane of a 2D run, and the watchdog's records on a run page.
//
//   node scripts/screenshots.mjs        writes docs/img/*.png (a minute or two)
//
// Starts build/ganctld on a free loopback port with a temporary data folder, trains a
// few short runs and a sweep, and saves one picture per view.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'docs/img');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const port = await new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});
const base = `http://127.0.0.1:${port}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ganctl-shots-'));
const daemon = spawn(path.join(ROOT, 'build/ganctld'), ['--listen', `127.0.0.1:${port}`, '--data', dir,
    '--web', path.join(ROOT, 'web'), '--workers', '2', '--threads', '2'], { stdio: 'ignore' });

async function api(method, p, body) {
    const res = await fetch(base + p, { method, headers: body ? { 'Content-Type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined });
    return res.json();
}
async function until(what, fn, ms = 600000) {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
        if (await fn().catch(() => false)) return;
        await sleep(500);
    }
    throw new Error(`timed out: ${what}`);
}
const finished = async (id) => ['succeeded', 'failed', 'canceled'].includes((await api('GET', `/api/v1/runs/${id}`)).status);

try {
    await until('the daemon', async () => (await fetch(base + '/healthz')).ok, 20000);
    const every = { log: 20, sample: 250, checkpoint: 500, eval: 250 };
    // the plain GAN collapsing on grid25 at a constant rate, with rollbacks
    const grid = await api('POST', '/api/v1/runs', { name: 'grid25 plain GAN, lr 3e-3', dataset: { name: 'grid25' },
        train: { steps: 3000, lr_decay: null }, optimizer: { g: { lr: 3e-3 }, d: { lr: 3e-3 } },
        every: { log: 20, sample: 100, checkpoint: 100, eval: 100 }, watch: { action: 'rollback', warmup: 0.2 } });
    const plain = await api('POST', '/api/v1/runs', { name: 'ring8 plain GAN', dataset: { name: 'ring8' },
        train: { steps: 4000 }, every });
    const unrolled = await api('POST', '/api/v1/runs', { name: 'ring8 unrolled (5)', dataset: { name: 'ring8' },
        train: { steps: 4000 }, tricks: { unrolled_steps: 5 }, every });
    for (const r of [grid, plain, unrolled]) await until(`run ${r.id}`, () => finished(r.id));
    const sweep = await api('POST', '/api/v1/sweeps', { name: 'ring8 lr x unrolled',
        spec: { dataset: { name: 'ring8' }, train: { steps: 2000 }, every: { log: 50, sample: 500, checkpoint: 1000, eval: 500 } },
        axes: { 'optimizer.g.lr': [3e-4, 1e-3, 3e-3], 'tricks.unrolled_steps': [0, 3] }, seeds: 2,
        objective: { metric: 'modes_covered', goal: 'max' } });
    await until('the sweep', async () => (await api('GET', `/api/v1/sweeps/${sweep.id}`)).status === 'finished');

    fs.mkdirSync(OUT, { recursive: true });
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 },
        colorScheme: 'light' })).newPage();

    await page.goto(`${base}/#/sweeps/${sweep.id}`);
    await page.waitForFunction(() => document.querySelectorAll('svg.parallel polyline').length >= 6);
    await page.waitForFunction(() => [...document.querySelectorAll('.best-samples img')].every((i) => i.complete && i.naturalWidth > 0));
    await sleep(500);
    await page.screenshot({ path: path.join(OUT, 'sweep.png'), fullPage: true });

    await page.goto(`${base}/#/compare?runs=${plain.id},${unrolled.id}&metric=modes_covered`);
    await page.locator('.compare-samples:not([hidden])').waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('.compare-samples img')].every((i) => i.complete && i.naturalWidth > 0));
    await sleep(500);
    await page.locator('.compare-samples').screenshot({ path: path.join(OUT, 'compare.png') });

    await page.goto(`${base}/#/runs/${grid.id}`);
    await page.waitForFunction(() => { const p = document.querySelector('.plane'); return p && !p.hidden; });
    await page.locator('.sample input[type="range"]').fill('9'); // step 1000: in the collapse
    await sleep(1500);
    await page.locator('.plane').screenshot({ path: path.join(OUT, 'plane.png') });
    await page.locator('table.watch').waitFor();
    await page.locator('section.panel', { has: page.locator('table.watch') }).screenshot({ path: path.join(OUT, 'watchdog.png') });
    await browser.close();
    console.log(`wrote ${fs.readdirSync(OUT).join(', ')} to ${OUT}`);
} finally {
    daemon.kill('SIGTERM');
    await sleep(500);
    fs.rmSync(dir, { recursive: true, force: true });
}
