// dashboard.test.mjs — the dashboard in a real headless browser against the real daemon.
//
// Starts build/ganctld (or $GANCTLD) on a free loopback port with a temporary data
// folder and --web <repo>/web, creates tiny ring8 runs over the REST API, and drives
// Debian's chromium with playwright-core. Run with: node --test tests/e2e/
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DAEMON = process.env.GANCTLD || path.join(ROOT, 'build/ganctld');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LOGS = path.join(ROOT, 'build/test-logs');
const T = 60000; // per test

// A run that finishes in well under a second and logs, samples, evaluates and
// checkpoints several times on the way.
const tiny = (name, steps = 120) => ({
    name,
    dataset: { name: 'ring8' },
    model: { hidden: 32, layers: 2, z_dim: 4 },
    train: { steps, batch_size: 32, seed: 7 },
    every: { log: 10, sample: 40, checkpoint: 40, eval: 60 },
});

const daemons = [];
let base = '';
let browser = null;
let page = null;
const consoleErrors = [];

function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(method, p, body) {
    const res = await fetch(base + p, {
        method,
        headers: body ? { 'Content-Type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let data = null;
    try {
        data = text ? JSON.parse(text) : null;
    } catch (e) {
        data = text;
    }
    return { status: res.status, data };
}

async function waitFor(what, fn, ms = 30000) {
    const t0 = Date.now();
    let last;
    while (Date.now() - t0 < ms) {
        last = await fn();
        if (last) return last;
        await sleep(150);
    }
    throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

async function createRun(spec) {
    const r = await api('POST', '/api/v1/runs', spec);
    assert.equal(r.status, 201, `POST /api/v1/runs: ${JSON.stringify(r.data)}`);
    return r.data;
}

const runStatus = async (id) => (await api('GET', `/api/v1/runs/${id}`)).data.status;

async function waitStatus(id, want, ms) {
    return waitFor(`run ${id} ${want}`, async () => ((await runStatus(id)) === want ? want : null), ms);
}

// The console messages a browser prints for a response the test asked for on purpose:
// the 4xx answer to an invalid spec, which the page shows next to the field.
let expectRejectedSpec = false;
function expected(msg) {
    const url = (msg.location() && msg.location().url) || '';
    return expectRejectedSpec && /\/api\/v1\/runs$/.test(url) &&
        /status of 4(00|22)/.test(msg.text());
}

// Starts a daemon with its own data folder on a free port; returns its base URL.
async function startDaemon(tag, extra) {
    return (await startDaemonProc(tag, extra)).url;
}

// The same, returning { url, dir, proc }.
async function startDaemonProc(tag, extra) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ganctl-e2e-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const log = fs.openSync(path.join(LOGS, `e2e-ganctld-${tag}.log`), 'w');
    const d = { dir, proc: null, stopping: false };
    d.proc = spawn(DAEMON, ['--listen', `127.0.0.1:${port}`, '--data', dir, '--web',
        path.join(ROOT, 'web'), '--workers', '2', '--threads', '2', ...(extra || [])],
    { stdio: ['ignore', log, log] });
    d.proc.on('exit', (code, sig) => {
        if (!d.stopping) console.error(`ganctld (${tag}) exited early: code ${code}, signal ${sig}`);
    });
    daemons.push(d);
    await waitFor(`the ${tag} daemon to answer /healthz`, async () => {
        try {
            return (await fetch(url + '/healthz')).status === 200;
        } catch (e) {
            return false;
        }
    }, 20000);
    d.url = url;
    return d;
}

before(async () => {
    assert.ok(fs.existsSync(DAEMON), `${DAEMON} is missing: run make first`);
    fs.mkdirSync(LOGS, { recursive: true });
    base = await startDaemon('main');
    browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
            '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
    page = await ctx.newPage();
    page.setDefaultTimeout(30000);
    page.on('console', (msg) => {
        if (msg.type() === 'error' && !expected(msg)) consoleErrors.push(`console: ${msg.text()} (${msg.location().url})`);
    });
    page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
});

after(async () => {
    if (browser) await browser.close();
    for (const d of daemons) {
        d.stopping = true;
        if (d.proc.exitCode === null) {
            d.proc.kill('SIGTERM');
            await Promise.race([new Promise((r) => d.proc.once('exit', r)), sleep(10000)]);
            if (d.proc.exitCode === null) d.proc.kill('SIGKILL');
        }
        fs.rmSync(d.dir, { recursive: true, force: true });
    }
});

let runA = null;
let runB = null;

test('the run list shows runs created over the API, live', { timeout: T }, async () => {
    runA = await createRun(tiny('e2e-alpha'));
    await page.goto(base + '/');
    const rowA = page.locator(`tr[data-run="${runA.id}"]`);
    await rowA.waitFor();
    assert.match(await rowA.locator('td.name').innerText(), /e2e-alpha/);
    assert.match(await rowA.locator('td.data-cell').innerText(), /ring8/);

    // a run created while the page is open appears without a reload, and its status
    // follows the event stream to the end
    await page.evaluate(() => { window.__marker = 1; });
    runB = await createRun(tiny('e2e-beta', 160));
    const rowB = page.locator(`tr[data-run="${runB.id}"]`);
    await rowB.waitFor();
    await page.locator(`tr[data-run="${runB.id}"][data-status="succeeded"]`).waitFor();
    assert.equal(await page.evaluate(() => window.__marker), 1, 'the page reloaded');
    assert.equal(await runStatus(runB.id), 'succeeded');
    // newest first
    const ids = await page.locator('tbody tr').evaluateAll((trs) => trs.map((t) => +t.dataset.run));
    assert.ok(ids.indexOf(runB.id) < ids.indexOf(runA.id), `order ${ids}`);
    assert.match(await rowB.locator('td.prog').innerText(), /160 \/ 160/);
    assert.match(await rowB.locator('td.losses').innerText(), /\d/);

    // the status filter asks the API for that status only
    await waitStatus(runA.id, 'succeeded');
    await page.locator('[data-filter="failed"]').click();
    await page.waitForFunction(() => location.hash === '#/?status=failed');
    await page.locator('.empty:not([hidden])').waitFor();
    assert.equal(await page.locator('tbody tr').count(), 0);
    await page.locator('[data-filter="succeeded"]').click();
    await page.locator(`tr[data-run="${runA.id}"]`).waitFor();
    // the modes covered read out of the ring's 8 (the catalog's modes of the dataset)
    const covered = (await api('GET', `/api/v1/runs/${runA.id}`)).data.eval.modes_covered;
    assert.match(await page.locator(`tr[data-run="${runA.id}"] td.evalfig`).innerText(),
        new RegExp(`modes covered ${covered}/8`));
});

test('a run page shows curves with points, the sample grid, checkpoints and CSV', { timeout: T }, async () => {
    await waitStatus(runA.id, 'succeeded');
    await page.goto(`${base}/#/runs/${runA.id}`);
    await page.locator('h1', { hasText: 'e2e-alpha' }).waitFor();
    const loss = page.locator('[data-chart="loss"]');
    await page.waitForFunction(() => +document.querySelector('[data-chart="loss"]')?.dataset.points > 0);
    // every point the API has: 120 steps logged every 10
    const m = (await api('GET', `/api/v1/runs/${runA.id}/metrics?name=loss_d&name=loss_g`)).data.metrics;
    assert.ok(m.loss_d.length >= 12 && m.loss_g.length === m.loss_d.length, JSON.stringify(m));
    assert.equal(+(await loss.getAttribute('data-points')), m.loss_d.length + m.loss_g.length);
    assert.equal(await loss.locator('canvas').count(), 1);
    const box = await loss.locator('canvas').boundingBox();
    assert.ok(box.width > 200 && box.height > 100, `canvas ${JSON.stringify(box)}`);
    await page.waitForFunction(() => +document.querySelector('[data-chart="dout"]')?.dataset.points > 0);
    await page.waitForFunction(() => +document.querySelector('[data-chart="eval-modes_covered"]')?.dataset.points > 0);

    // the newest sample grid loads, and the slider steps back through older ones
    const img = page.locator('img[data-role="sample"]');
    await page.waitForFunction(() => {
        const i = document.querySelector('img[data-role="sample"]');
        return i && i.complete && i.naturalWidth > 0;
    });
    const samples = (await api('GET', `/api/v1/runs/${runA.id}/samples`)).data.samples;
    const steps = samples.map((x) => x.step).sort((a, b) => a - b);
    assert.ok(steps.length >= 3 && steps.includes(120), `sample steps ${steps}`);
    assert.match(await img.getAttribute('src'), /\/samples\/120\.png$/);
    assert.match(await page.locator('.sample .slider').innerText(), /step 120/);
    await page.locator('.sample input[type="range"]').fill('0');
    await page.waitForFunction((s) => document.querySelector('img[data-role="sample"]').src
        .endsWith(`/samples/${s}.png`), steps[0]);
    await page.waitForFunction(() => document.querySelector('img[data-role="sample"]').naturalWidth > 0);

    // checkpoints with download links, the normalized spec
    const links = page.locator('table.checkpoints a[download]');
    await links.first().waitFor();
    assert.ok((await links.count()) >= 1);
    assert.match(await links.first().getAttribute('href'), new RegExp(`/api/v1/runs/${runA.id}/checkpoints/120$`));
    const spec = JSON.parse(await page.locator('pre[data-role="spec"]').innerText());
    assert.equal(spec.dataset.name, 'ring8');
    assert.equal(spec.train.steps, 120);

    // generate fresh samples from the newest checkpoint
    await page.locator('.generate button', { hasText: 'Generate' }).click();
    await page.waitForFunction(() => {
        const i = document.querySelector('img[data-role="generated"]');
        return i && !i.hidden && i.complete && i.naturalWidth > 0;
    });

    // CSV of the metrics
    const [download] = await Promise.all([page.waitForEvent('download'),
        page.locator('[data-action="csv"]').click()]);
    assert.equal(download.suggestedFilename(), `run-${runA.id}-metrics.csv`);
    const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
    const head = csv[0].split(',');
    assert.equal(head[0], 'step');
    assert.ok(head.includes('loss_d') && head.includes('loss_g'), csv[0]);
    const all = (await api('GET', `/api/v1/runs/${runA.id}/metrics?` +
        head.slice(1).map((n) => `name=${n}`).join('&') + '&max_points=100000')).data.metrics;
    const allSteps = new Set(Object.values(all).flat().map((pt) => pt[0]));
    assert.equal(csv.length - 1, allSteps.size, 'one line per step that logged anything');
    const last = csv[csv.length - 1].split(',');
    assert.equal(last[0], '120');
    assert.ok(Number.isFinite(Number(last[head.indexOf('loss_d')])));
});

test('a conditional run\'s generate panel picks classes', { timeout: T }, async () => {
    const spec = tiny('e2e-classes');
    spec.model.conditional = true;
    const run = await createRun(spec);
    await waitStatus(run.id, 'succeeded');
    await page.goto(`${base}/#/runs/${run.id}`);
    await page.locator('h1', { hasText: 'e2e-classes' }).waitFor();
    const picker = page.locator('[data-role="classes"]');
    await picker.waitFor({ state: 'visible' });
    const boxes = picker.locator('input[type="checkbox"]');
    assert.equal(await boxes.count(), 8); // ring8: one class per mode
    assert.deepEqual(await boxes.evaluateAll((bs) => bs.map((b) => b.value)),
        ['0', '1', '2', '3', '4', '5', '6', '7']);

    // two classes ticked: the request asks for both, one row of n each
    await page.locator('.generate input[aria-label="n"]').fill('5');
    await picker.locator('input[value="2"]').check();
    await picker.locator('input[value="6"]').check();
    const [req] = await Promise.all([
        page.waitForRequest((r) => r.url().endsWith(`/api/v1/runs/${run.id}/generate`)),
        page.locator('.generate button', { hasText: 'Generate' }).click()]);
    assert.deepEqual(JSON.parse(req.postData()), { n: 5, seed: 1, format: 'png', classes: [2, 6] });
    await page.waitForFunction(() => {
        const i = document.querySelector('img[data-role="generated"]');
        return i && !i.hidden && i.complete && i.naturalWidth > 0;
    });
    assert.match(await page.locator('.generate').innerText(), /5 of each of 2 classes/);

    // one class: "class"; "none" clears the picker, and the request names no class
    await picker.locator('button', { hasText: 'none' }).click();
    await picker.locator('input[value="3"]').check();
    const [one] = await Promise.all([
        page.waitForRequest((r) => r.url().endsWith(`/api/v1/runs/${run.id}/generate`)),
        page.locator('.generate button', { hasText: 'Generate' }).click()]);
    assert.equal(JSON.parse(one.postData()).class, 3);
    await picker.locator('button', { hasText: 'none' }).click();
    const [none] = await Promise.all([
        page.waitForRequest((r) => r.url().endsWith(`/api/v1/runs/${run.id}/generate`)),
        page.locator('.generate button', { hasText: 'Generate' }).click()]);
    const body = JSON.parse(none.postData());
    assert.ok(!('class' in body) && !('classes' in body), none.postData());

    // an unconditional run has no picker
    await page.goto(`${base}/#/runs/${runA.id}`);
    await page.locator('h1', { hasText: 'e2e-alpha' }).waitFor();
    await page.locator('.generate button', { hasText: 'Generate' }).waitFor();
    assert.equal(await page.locator('[data-role="classes"]').isHidden(), true);

    // the launch form: conditioning applies once conditional is ticked
    await page.goto(`${base}/#/launch`);
    const cond = page.locator('#f-model-conditioning');
    await cond.waitFor();
    assert.equal(await cond.isDisabled(), true);
    await page.locator('#f-model-conditional').check();
    assert.equal(await cond.isDisabled(), false);
    assert.deepEqual(await cond.locator('option').evaluateAll((os) => os.map((o) => o.value)),
        ['projection', 'concat']);
});

test('the launch form shows a field error and launches a run', { timeout: T }, async () => {
    await page.goto(`${base}/#/launch`);
    const launch = page.getByRole('button', { name: 'Launch', exact: true });
    await launch.waitFor();
    // each 2D set has its own batch (core/spec.c), and the form follows the dataset
    await page.locator('#f-dataset-name').selectOption('grid25');
    assert.equal(await page.locator('#f-train-batch_size').inputValue(), '250');
    await page.locator('#f-dataset-name').selectOption('ring8');
    assert.equal(await page.locator('#f-train-batch_size').inputValue(), '100');
    assert.equal(await page.locator('#f-model-arch').inputValue(), 'mlp');
    await page.locator('#f-name').fill('e2e-form');
    await page.locator('#f-train-steps').fill('0');
    expectRejectedSpec = true;
    await launch.click();
    const err = page.locator('.field[data-field="train.steps"] .field-error');
    await err.waitFor({ state: 'visible' });
    expectRejectedSpec = false;
    assert.match(await err.innerText(), /\S/);
    assert.equal(parseHash(page.url()), '#/launch');

    await page.locator('#f-train-steps').fill('80');
    await page.locator('#f-model-hidden').fill('32');
    await page.locator('#f-every-sample').fill('40');
    // the schedule: a shape with its start and factor; the weight average: a decay
    await page.locator('#f-train-lr_decay').selectOption('step');
    await page.locator('[aria-label="lr decay start"]').fill('0.75');
    await page.locator('#f-tricks-ema').fill('0.99');
    assert.equal(await err.isVisible(), false, 'typing clears the error');
    await launch.click();
    await page.waitForFunction(() => /^#\/runs\/\d+$/.test(location.hash));
    const id = Number(parseHash(page.url()).split('/').pop());
    await page.locator('h1', { hasText: 'e2e-form' }).waitFor();
    const run = (await api('GET', `/api/v1/runs/${id}`)).data;
    assert.equal(run.name, 'e2e-form');
    assert.equal(run.spec.train.steps, 80);
    assert.equal(run.spec.model.hidden, 32);
    assert.equal(run.spec.dataset.name, 'ring8');
    assert.deepEqual(run.spec.train.lr_decay, { start: 0.75, factor: 0.01, shape: 'step' });
    assert.equal(run.spec.tricks.ema, 0.99);
    // the fields left alone carry the daemon's own 2D defaults (core/spec.c)
    const def = (await api('POST', '/api/v1/runs', { dataset: { name: 'ring8' }, train: { steps: 1 } })).data;
    for (const p of ['model.layers', 'model.z_dim', 'model.batch_norm', 'train.batch_size', 'optimizer.g.lr', 'optimizer.d.lr']) {
        const get = (o) => p.split('.').reduce((a, k) => a[k], o);
        assert.deepEqual(get(run.spec), get(def.spec), p);
    }
    // the run page follows it to the end over the event stream
    await page.locator('.page-head [data-status="succeeded"]').waitFor();
});

function parseHash(url) {
    return new URL(url).hash;
}

// What the launch form shows in each field that applies (the .field rows not greyed
// out): {path: {value, extra: [values of the field's other inputs], placeholder}},
// a checkbox's value being its checked state.
async function formShows() {
    return page.locator('form.launch .field[data-field]').evaluateAll((rows) => {
        const out = {};
        for (const row of rows) {
            if (row.classList.contains('off')) continue;
            const [first, ...rest] = row.querySelectorAll('.control input, .control select');
            out[row.dataset.field] = {
                value: first.type === 'checkbox' ? first.checked : first.value,
                extra: rest.map((el) => (el.type === 'checkbox' ? el.checked : el.value)),
                placeholder: first.getAttribute('placeholder'),
            };
        }
        return out;
    });
}

// Text as the spec would have it: a number where it reads as one, null where empty.
const norm = (s) => (typeof s !== 'string' ? s : s.trim() === '' ? null :
    Number.isFinite(Number(s)) ? Number(s) : s);
const at = (o, p) => p.split('.').reduce((a, k) => (a == null ? undefined : a[k]), o);

// Asserts that the form shows exactly the spec want in every field that applies.
function assertShows(shown, want, what) {
    for (const [path, f] of Object.entries(shown)) {
        const v = at(want, path);
        const where = `${what}: ${path}`;
        if (path === 'name') {
            // empty, with the name the daemon gives shown in its place
            assert.equal(f.value, '', where);
            assert.equal(f.placeholder, want.name, where);
        } else if (path === 'train.lr_decay') {
            assert.deepEqual([f.value, ...f.extra.map(norm)],
                v ? [v.shape, v.start, v.factor] : ['none', null, null], where);
        } else if (path === 'tricks.gradient_penalty') {
            assert.deepEqual([f.value, ...f.extra.map(norm)],
                v ? [v.kind, v.weight, v.every] : ['none', null, null], where);
        } else if (path === 'tricks.diffaugment') {
            // a checkbox per augmentation, in the catalog's order
            const on = v ? v.split(',') : [];
            assert.deepEqual([f.value, ...f.extra], ['color', 'translation', 'cutout'].map((a) => on.includes(a)), where);
        } else if (path === 'preset') {
            assert.equal(f.value, v == null ? 'none' : v, where);
        } else if (path === 'model.d_batch_norm') {
            assert.equal(f.value, v == null ? 'none' : v ? 'on' : 'off', where);
        } else if (path === 'task') {
            assert.equal(f.value, v == null ? 'none' : v.kind, where);
        } else if (path === 'tricks.label_smoothing') {
            assert.equal(f.value, v == null ? 'none' : Array.isArray(v) ? 'range' : 'fixed', where);
        } else if (path === 'dataset.classes') {
            assert.equal(f.value, v == null ? '' : v.join(','), where);
        } else {
            assert.deepEqual(norm(f.value), v, where);
        }
    }
}

test('the launch form shows the daemon\'s defaults for every dataset and loss', { timeout: T }, async () => {
    const cat = (await api('GET', '/api/v1/catalog')).data;
    await page.goto('about:blank');
    await page.goto(`${base}/#/launch`);
    await page.locator('form.launch[data-defaults]').waitFor();
    // the choices are the catalog's
    const options = (sel) => page.locator(`${sel} option`).evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(await options('#f-dataset-name'), cat.datasets.map((d) => d.name));
    assert.deepEqual(await options('#f-loss'), cat.losses);
    assert.deepEqual(await options('#f-model-arch'), cat.archs);
    assert.deepEqual(await options('#f-optimizer-g-kind'), cat.optimizers);
    assert.deepEqual(await options('#f-optimizer-d-kind'), cat.optimizers);
    assert.deepEqual(await options('#f-train-lr_decay'), ['none', ...cat.decay_shapes]);
    assert.deepEqual(await options('#f-train-precision'), cat.precisions);

    // the form has a field for every field of the spec the daemon serves
    const first = (await api('GET', `/api/v1/spec/defaults?dataset=${cat.datasets[0].name}`)).data;
    const fields = await page.locator('form.launch .field[data-field]')
        .evaluateAll((rows) => rows.map((r) => r.dataset.field));
    const leaves = (o, pre) => Object.entries(o).flatMap(([k, v]) => {
        const p = pre ? `${pre}.${k}` : k;
        return v && typeof v === 'object' && !Array.isArray(v) && !fields.includes(p) ? leaves(v, p) : [p];
    });
    for (const p of leaves(first, '')) assert.ok(fields.includes(p), `the form has no field for ${p}`);

    // every dataset with the daemon's default loss, then with wasserstein
    for (const loss of [null, 'wasserstein']) {
        if (loss) await page.locator('#f-loss').selectOption(loss);
        for (const { name } of cat.datasets) {
            await page.locator('#f-dataset-name').selectOption(name);
            const want = (await api('GET', `/api/v1/spec/defaults?dataset=${name}` +
                (loss ? `&loss=${loss}` : ''))).data;
            await page.locator(`form.launch[data-defaults="${name}/${want.loss}"]`).waitFor();
            const shown = await formShows();
            for (const p of ['dataset.name', 'loss', 'model.arch', 'model.z_dim', 'train.steps',
                'train.batch_size', 'train.d_steps', 'optimizer.g.kind', 'optimizer.g.lr',
                'optimizer.d.lr', 'every.eval']) {
                assert.ok(p in shown, `${name}/${want.loss}: ${p} is not shown`);
            }
            assertShows(shown, want, `${name}/${want.loss}`);
        }
    }

    // a field the user edited keeps its value through a switch; Reset brings the defaults
    await page.locator('#f-dataset-name').selectOption('ring8');
    await page.locator('#f-train-batch_size').fill('77');
    await page.locator('#f-dataset-name').selectOption('grid25');
    await page.locator('#f-loss').selectOption('hinge');
    await page.locator('form.launch[data-defaults="grid25/hinge"]').waitFor();
    const hinge = (await api('GET', '/api/v1/spec/defaults?dataset=grid25&loss=hinge')).data;
    const shown = await formShows();
    assert.equal(shown['train.batch_size'].value, '77');
    assertShows(Object.fromEntries(Object.entries(shown).filter(([p]) => p !== 'train.batch_size')),
        hinge, 'grid25/hinge after an edit');
    await page.getByRole('button', { name: 'Reset to defaults' }).click();
    await page.locator('form.launch[data-defaults="grid25/hinge"]').waitFor();
    assertShows(await formShows(), hinge, 'grid25/hinge after a reset');
});

test('a preset fills in its recipe, yields to what the user edits, and launches', { timeout: T }, async () => {
    const cat = (await api('GET', '/api/v1/catalog')).data;
    await page.goto('about:blank');
    await page.goto(`${base}/#/launch`);
    await page.locator('form.launch[data-defaults]').waitFor();
    const options = (sel) => page.locator(`${sel} option`).evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(await options('#f-preset'), ['none', ...cat.presets]);
    assert.deepEqual(await options('#f-tricks-gradient_penalty'), ['none', ...cat.penalties]);
    // every preset on fashion-mnist: the form shows what the daemon's defaults say,
    // the loss being the preset's
    await page.locator('#f-dataset-name').selectOption('fashion-mnist');
    for (const preset of cat.presets) {
        await page.locator('#f-preset').selectOption(preset);
        const want = (await api('GET', `/api/v1/spec/defaults?dataset=fashion-mnist&preset=${preset}`)).data;
        await page.locator(`form.launch[data-preset="${preset}"][data-defaults="fashion-mnist/${want.loss}"]`).waitFor();
        assertShows(await formShows(), want, `fashion-mnist/${preset}`);
    }
    // a loss chosen by hand stays when the preset changes; the preset's other settings come
    await page.locator('#f-loss').selectOption('least-squares');
    await page.locator('#f-preset').selectOption('wgan-gp');
    const mixed = (await api('GET', '/api/v1/spec/defaults?dataset=fashion-mnist&preset=wgan-gp&loss=least-squares')).data;
    await page.locator('form.launch[data-preset="wgan-gp"][data-defaults="fashion-mnist/least-squares"]').waitFor();
    assertShows(await formShows(), mixed, 'wgan-gp with least-squares');
    // on ring8: sngan's spectral norm and rates, a few steps, launched
    await page.getByRole('button', { name: 'Reset to defaults' }).click();
    await page.locator('#f-dataset-name').selectOption('ring8');
    await page.locator('#f-preset').selectOption('sngan');
    await page.locator('form.launch[data-preset="sngan"][data-defaults="ring8/hinge"]').waitFor();
    assert.equal(await page.locator('#f-model-spectral_norm').isChecked(), true);
    await page.locator('#f-train-steps').fill('30');
    await page.locator('#f-model-hidden').fill('16');
    await page.locator('#f-tricks-gradient_penalty').selectOption('r1');
    await page.locator('[aria-label="penalty every"]').fill('4');
    await page.getByRole('button', { name: 'Launch', exact: true }).click();
    await page.waitForFunction(() => /^#\/runs\/\d+$/.test(location.hash));
    const id = Number(parseHash(page.url()).split('/').pop());
    const run = (await api('GET', `/api/v1/runs/${id}`)).data;
    assert.equal(run.spec.preset, 'sngan');
    assert.equal(run.spec.loss, 'hinge');
    assert.equal(run.spec.model.spectral_norm, true);
    assert.equal(run.spec.optimizer.d.lr, 0.0004);
    assert.deepEqual(run.spec.tricks.gradient_penalty, { kind: 'r1', weight: 10, every: 4 });
    assert.equal(await waitStatus(id, 'succeeded', 30000), 'succeeded');
    // its page charts the penalty, and says what the run is made of
    await page.locator('[data-chart="penalty"]:not([data-points="0"])').waitFor();
    await page.getByText(/preset sngan.*R1 10 every 4.*spectral norm/).first().waitFor();
});

test('the dashboard loads as module scripts, the catalog once, with no console errors', { timeout: T }, async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const tab = await ctx.newPage();
    const errors = [];
    const scripts = [];
    let catalogs = 0;
    tab.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    tab.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
    tab.on('requestfailed', (r) => {
        // a view closes its event stream when the page leaves it
        if (/\/events$/.test(r.url()) && /ABORTED/.test(r.failure().errorText)) return;
        errors.push(`failed: ${r.url()} ${r.failure().errorText}`);
    });
    tab.on('response', (r) => {
        const u = new URL(r.url());
        if (u.pathname.endsWith('.js')) scripts.push([u.pathname, r.status(), r.headers()['content-type']]);
        if (u.pathname === '/api/v1/catalog') catalogs++;
    });
    try {
        await tab.goto(`${base}/`);
        await tab.locator(`tr[data-run="${runA.id}"]`).waitFor();
        // every view, by the hash as a person clicks through them
        for (const [hash, ready] of [[`#/runs/${runA.id}`, '[data-chart="loss"]:not([data-points="0"])'],
            ['#/launch', 'form.launch[data-defaults]'],
            [`#/compare?runs=${runA.id},${runB.id}`, '[data-chart="compare-loss_d"]:not([data-points="0"])'],
            ['#/', `tr[data-run="${runA.id}"]`]]) {
            await tab.evaluate((h) => { location.hash = h; }, hash);
            await tab.locator(ready).first().waitFor();
        }
        assert.equal(await tab.locator('script[type="module"]').count(), 1);
        assert.equal(await tab.locator('script:not([type="module"]):not([src*="/vendor/"])').count(), 0,
            'no classic script but the vendored chart library');
        const modules = scripts.filter(([p]) => !p.includes('/vendor/'));
        assert.ok(modules.length >= 10, `modules loaded: ${JSON.stringify(modules)}`);
        for (const [p, status, type] of scripts) {
            assert.equal(status, 200, p);
            assert.match(type || '', /^text\/javascript/, p);
        }
        assert.equal(catalogs, 1, 'the catalog is asked for once');
        assert.deepEqual(errors, []);
    } finally {
        await ctx.close();
    }
});

test('pause, resume and cancel buttons change the status', { timeout: T }, async () => {
    const long = await createRun(Object.assign(tiny('e2e-long', 2000000), {
        every: { log: 50, sample: 0, checkpoint: 0, eval: 0 },
    }));
    await page.goto(`${base}/#/runs/${long.id}`);
    const badge = (st) => page.locator(`.page-head [data-status="${st}"]`);
    await badge('running').waitFor();
    // the curves grow while it trains, from the run's event stream
    const points = () => page.locator('[data-chart="loss"]').getAttribute('data-points').then(Number);
    const seen = await points();
    await page.waitForFunction((n) => +document.querySelector('[data-chart="loss"]').dataset.points > n + 4, seen);
    assert.match(await page.locator('.page-head .progress').innerText(), /\/ 2,000,000/);
    await page.locator('[data-action="pause"]').click();
    await badge('paused').waitFor();
    assert.equal(await runStatus(long.id), 'paused');
    assert.equal(await page.locator('[data-action="pause"]').isDisabled(), true);
    await page.locator('[data-action="resume"]').click();
    await page.locator('.page-head [data-status="queued"], .page-head [data-status="running"]').waitFor();
    await badge('running').waitFor();
    await page.locator('[data-action="cancel"]').click();
    await badge('canceled').waitFor();
    assert.equal(await runStatus(long.id), 'canceled');
    assert.equal(await page.locator('[data-action="cancel"]').isDisabled(), true);
});

test('the runs list and a run page show the worker; the workers page lists this daemon', { timeout: T }, async () => {
    const long = await createRun(Object.assign(tiny('e2e-worker', 2000000), {
        every: { log: 50, sample: 0, checkpoint: 0, eval: 0 },
    }));
    await waitStatus(long.id, 'running');
    const me = (await api('GET', '/api/v1/workers')).data.self;
    await page.goto(base + '/');
    await page.locator(`tr[data-run="${long.id}"][data-status="running"]`).waitFor();
    assert.equal(await page.locator(`tr[data-run="${long.id}"] td.worker`).innerText(), me);
    await page.goto(`${base}/#/runs/${long.id}`);
    await page.locator('dl.kv dd', { hasText: me }).waitFor();
    await page.locator('nav a[data-nav="workers"]').click();
    const row = page.locator(`tr[data-worker="${me}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute('data-alive'), 'true');
    assert.match(await row.locator('td.name').innerText(), /this daemon/);
    assert.equal(await row.locator(`td.training a[href="#/runs/${long.id}"]`).count(), 1);
    await api('POST', `/api/v1/runs/${long.id}/cancel`);
    await waitStatus(long.id, 'canceled');
    // the list follows: the run is no longer trained there
    await page.waitForFunction((id) => !document.querySelector(`td.training a[href="#/runs/${id}"]`), long.id);
    assert.match(await row.locator('td.training').innerText(), /idle/);
});

test('two daemons on one PostgreSQL: each page shows every run and both workers', { timeout: T }, async (t) => {
    // the server tests/run.sh keeps for every suite (tests/integration/pgserver.py)
    const dir = process.env.GANCTL_TEST_PG_DIR, port = process.env.GANCTL_TEST_PG_PORT;
    if (!dir || !port) {
        t.skip('no PostgreSQL server (tests/run.sh starts one: GANCTL_TEST_PG_DIR, _PORT)');
        return;
    }
    const db = `e2e_${process.pid}`;
    const psql = spawnSync('psql', ['-X', '-q', '-h', dir, '-p', port, '-U', 'ganctl', '-d', 'postgres',
        '-c', `CREATE DATABASE ${db}`], { encoding: 'utf8' });
    assert.equal(psql.status, 0, psql.stderr);
    const store = `postgresql://ganctl@/${db}?host=${dir}&port=${port}`;
    const a = await startDaemonProc('pg-a', ['--store', store, '--name', 'daemon-a']);
    const long = await (await fetch(a.url + '/api/v1/runs', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(Object.assign(tiny('e2e-on-a', 2000000), {
            every: { log: 50, sample: 0, checkpoint: 0, eval: 0 } })),
    })).json();
    await waitFor('the run on daemon-a', async () =>
        (await (await fetch(`${a.url}/api/v1/runs/${long.id}`)).json()).worker === 'daemon-a');
    const b = await startDaemonProc('pg-b', ['--store', store, '--name', 'daemon-b']);
    // daemon-b's page shows the run daemon-a trains, with its worker, live
    await page.goto(b.url + '/');
    const row = page.locator(`tr[data-run="${long.id}"][data-status="running"]`);
    await row.waitFor();
    assert.equal(await row.locator('td.worker').innerText(), 'daemon-a');
    await page.goto(b.url + '/#/workers');
    await page.locator('tr[data-worker="daemon-a"][data-alive="true"]').waitFor();
    await page.locator('tr[data-worker="daemon-b"][data-alive="true"]').waitFor();
    assert.match(await page.locator('tr[data-worker="daemon-b"] td.name').innerText(), /this daemon/);
    assert.equal(await page.locator(`tr[data-worker="daemon-a"] td.training a[href="#/runs/${long.id}"]`).count(), 1);
    // a cancel from daemon-b's page reaches daemon-a
    await page.goto(`${b.url}/#/runs/${long.id}`);
    await page.locator('[data-action="cancel"]').click();
    await page.locator('.page-head [data-status="canceled"]').waitFor();
    assert.equal((await (await fetch(`${a.url}/api/v1/runs/${long.id}`)).json()).status, 'canceled');
});

test('the comparison view overlays two runs', { timeout: T }, async () => {
    await page.goto(`${base}/#/compare?runs=${runA.id},${runB.id}`);
    const chart = page.locator('[data-chart="compare-loss_d"]');
    await page.waitForFunction(() => +document.querySelector('[data-chart="compare-loss_d"]')?.dataset.points > 0);
    assert.equal(await chart.getAttribute('data-series'), '2');
    // every loss_d point of both runs on one chart
    let want = 0;
    for (const r of [runA, runB]) {
        want += (await api('GET', `/api/v1/runs/${r.id}/metrics?name=loss_d`)).data.metrics.loss_d.length;
    }
    assert.ok(want >= 12 + 16);
    assert.equal(+(await chart.getAttribute('data-points')), want);
    const legend = await chart.locator('.u-legend').innerText();
    assert.match(legend, /e2e-alpha/);
    assert.match(legend, /e2e-beta/);
    assert.equal(await page.locator(`.picker input[data-run="${runA.id}"]`).isChecked(), true);

    // picking runs in the list builds the same view
    await page.goto(`${base}/#/`);
    await page.locator(`tr[data-run="${runA.id}"] input[type="checkbox"]`).check();
    await page.locator(`tr[data-run="${runB.id}"] input[type="checkbox"]`).check();
    await page.getByRole('button', { name: /Compare selected/ }).click();
    await page.waitForFunction(() => +document.querySelector('[data-chart="compare-loss_d"]')?.dataset.points > 0);
    assert.match(page.url(), new RegExp(`runs=${runA.id},${runB.id}`));
});

test('the compare view shows the runs\' samples side by side at one step, with their figures', { timeout: T }, async () => {
    await page.goto(`${base}/#/compare?runs=${runA.id},${runB.id}`);
    const panel = page.locator('.compare-samples:not([hidden])');
    await panel.waitFor();
    const figs = panel.locator('figure[data-run]');
    assert.equal(await figs.count(), 2);
    // the newest step first: each run's grid of that step, loaded
    const steps = (await api('GET', `/api/v1/runs/${runB.id}/samples`)).data.samples.map((x) => x.step);
    await page.waitForFunction((n) => document.querySelector('.compare-samples').dataset.step === String(n),
        Math.max(...steps));
    await page.waitForFunction(() => [...document.querySelectorAll('.compare-samples img')]
        .every((i) => i.complete && i.naturalWidth > 0));
    // one slider moves both: at the first step each shows its grid of that step
    await panel.locator('input[type="range"]').fill('0');
    await page.waitForFunction(() => document.querySelector('.compare-samples').dataset.step === '40');
    for (const id of [runA.id, runB.id]) {
        const fig = panel.locator(`figure[data-run="${id}"]`);
        assert.equal(await fig.getAttribute('data-shown'), '40');
        await page.waitForFunction((i) => document.querySelector(
            `.compare-samples figure[data-run="${i}"] img`).src.endsWith('/samples/40.png'), id);
    }
    // the figures of both runs in one table, at the evaluation at or before the step
    await panel.locator('input[type="range"]').fill(String(steps.length - 1));
    const rows = panel.locator('table.compare-eval tbody tr');
    await page.waitForFunction(() => document.querySelectorAll('table.compare-eval tbody tr').length === 2);
    for (const r of [runA, runB]) {
        const run = (await api('GET', `/api/v1/runs/${r.id}`)).data;
        const cell = rows.locator(`[data-metric="modes_covered"]`).nth(r.id === runA.id ? 0 : 1);
        assert.match(await cell.innerText(), new RegExp(`^${run.eval.modes_covered}(/8)?$`));
    }
});

test('a 2D run page draws its plane under the modes and lists what the watchdog did', { timeout: T }, async () => {
    const run = await createRun(Object.assign(tiny('e2e-diverges'), {
        optimizer: { g: { lr: 10 }, d: { lr: 10 } },
    }));
    await waitFor('its alert', async () => (await api('GET', `/api/v1/runs/${run.id}`)).data.watch.length > 0);
    await page.goto(`${base}/#/runs/${run.id}`);
    const rec = page.locator('table.watch tr[data-kind="divergence"]');
    await rec.first().waitFor();
    assert.match(await rec.first().innerText(), /past watch\.loss_max/);
    // the plane of the sample shown: two pictures of 64 x 64 cells
    await page.waitForFunction(() => {
        const p = document.querySelector('.plane');
        return p && !p.hidden && p.dataset.step;
    });
    for (const role of ['density', 'decision']) {
        assert.equal(await page.locator(`canvas[data-role="${role}"]`).evaluate((c) => c.width), 256);
    }
    const shown = await page.locator('.sample .slider').innerText();
    assert.match(shown, new RegExp(`step ${await page.locator('.plane').getAttribute('data-step')}\\b`));
    // how it was made
    assert.match(await page.locator('dd[data-info="threads"]').innerText(), /^\d+$/);
    assert.match(await page.locator('dd[data-info="BLAS"]').innerText(), /OpenBLAS/);
});

test('the sweeps view ranks the configurations, plots them and shows the best one\'s samples', { timeout: T }, async () => {
    const r = await api('POST', '/api/v1/sweeps', {
        name: 'e2e-sweep', spec: tiny('swept', 80), axes: { 'optimizer.g.lr': [1e-3, 3e-3, 1e-6] },
        objective: { metric: 'high_quality', goal: 'max' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.data));
    const id = r.data.id;
    await waitFor('the sweep to finish', async () => (await api('GET', `/api/v1/sweeps/${id}`)).data.status === 'finished');
    await page.goto(`${base}/#/sweeps`);
    await page.locator(`tr[data-sweep="${id}"] a`).click();
    await page.waitForFunction((s) => location.hash === `#/sweeps/${s}`, id);
    const rows = page.locator('table.sweep-table tbody tr');
    await page.waitForFunction(() => document.querySelectorAll('table.sweep-table tbody tr').length === 3);
    const w = (await api('GET', `/api/v1/sweeps/${id}`)).data;
    const means = w.configurations.map((c) => (c.objective ? c.objective.mean : -1));
    const order = await rows.evaluateAll((trs) => trs.map((t) => +t.dataset.config));
    assert.deepEqual(order, [0, 1, 2].sort((a, b) => means[b] - means[a] || a - b));
    assert.equal(await rows.first().getAttribute('data-best'), '1');
    // one line per configuration over one axis and the objective
    assert.equal(await page.locator('svg.parallel polyline').count(), 3);
    assert.equal(await page.locator('svg.parallel text.axis-name').count(), 2);
    // the best configuration's samples
    await page.waitForFunction(() => {
        const i = document.querySelector('.best-samples img');
        return i && i.complete && i.naturalWidth > 0;
    });
    assert.equal(await page.locator('.best-samples figure').getAttribute('data-run'),
        String(w.best.runs[0]));
});

test('pages fit a phone-width window', { timeout: T }, async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const tab = await ctx.newPage();
    const errors = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    tab.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    try {
        for (const [hash, ready] of [['#/', `tr[data-run="${runA.id}"]`],
            [`#/runs/${runA.id}`, '[data-chart="loss"][data-points]:not([data-points="0"])'],
            ['#/launch', '#f-train-steps'],
            ['#/workers', 'tr[data-worker]'],
            [`#/compare?runs=${runA.id},${runB.id}`, '[data-chart="compare-loss_d"]']]) {
            await tab.goto(`${base}/${hash}`);
            await tab.locator(ready).first().waitFor();
            await sleep(300); // let the charts take their width
            const wide = await tab.evaluate(() => document.documentElement.scrollWidth);
            assert.ok(wide <= 390, `${hash} is ${wide}px wide`);
        }
        assert.deepEqual(errors, []);
    } finally {
        await ctx.close();
    }
});

test('with a token the page asks for it once and keeps it for the tab', { timeout: T }, async () => {
    const secret = 'e2e-' + Math.random().toString(36).slice(2);
    const file = path.join(os.tmpdir(), `ganctl-e2e-token-${process.pid}`);
    fs.writeFileSync(file, secret + '\n', { mode: 0o600 });
    let url;
    try {
        url = await startDaemon('token', ['--token-file', file]);
    } finally {
        fs.rmSync(file, { force: true });
    }
    const auth = { Authorization: `Bearer ${secret}` };
    assert.equal((await fetch(url + '/api/v1/runs')).status, 401);
    const made = await fetch(url + '/api/v1/runs', { method: 'POST', headers: { ...auth,
        'Content-Type': 'application/json' }, body: JSON.stringify(tiny('e2e-secret')) });
    assert.equal(made.status, 201);
    const id = (await made.json()).id;

    // its own tab: the refused first requests are what this test is about
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const tab = await ctx.newPage();
    const errors = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    tab.on('console', (m) => {
        if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text());
    });
    try {
        await tab.goto(url + '/');
        const dialog = tab.locator('#token-dialog');
        await dialog.waitFor({ state: 'visible' });
        await tab.locator('#token-input').fill('wrong');
        await tab.locator('#token-form button[type="submit"]').click();
        await tab.locator('#token-msg:not([hidden])').waitFor();
        await tab.locator('#token-input').fill(secret);
        await tab.locator('#token-form button[type="submit"]').click();
        await tab.locator(`tr[data-run="${id}"]`).waitFor();
        await tab.locator(`tr[data-run="${id}"][data-status="succeeded"]`).waitFor();
        // the event stream carries the token too
        await tab.locator('#live.on').waitFor();
        assert.equal(await tab.evaluate(() => sessionStorage.getItem('ganctl.token')), secret);
        // the sample grid comes through fetch() with the header
        await tab.goto(`${url}/#/runs/${id}`);
        await tab.waitForFunction(() => {
            const i = document.querySelector('img[data-role="sample"]');
            return i && i.src.startsWith('blob:') && i.naturalWidth > 0;
        });
        // a reload in the same tab does not ask again
        await tab.reload();
        await tab.locator('h1', { hasText: 'e2e-secret' }).waitFor();
        assert.equal(await tab.locator('#token-dialog').isVisible(), false);
        assert.deepEqual(errors, []);
    } finally {
        await ctx.close();
    }
});

// A gray PNG of w×h whose pixel (x, y) is v(x, y), for the translate panel.
function grayPng(w, hgt, v) {
    const crcTable = Array.from({ length: 256 }, (_, n) => {
        let c = n;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
        return c >>> 0;
    });
    const crc = (buf) => {
        let c = 0xffffffff;
        for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
        return (c ^ 0xffffffff) >>> 0;
    };
    const chunk = (tag, data) => {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(data.length);
        const body = Buffer.concat([Buffer.from(tag), data]);
        const sum = Buffer.alloc(4);
        sum.writeUInt32BE(crc(body));
        return Buffer.concat([len, body, sum]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(w, 0);
    ihdr.writeUInt32BE(hgt, 4);
    ihdr[8] = 8; // depth; color type 0 (gray) and the rest 0
    const raw = Buffer.alloc((w + 1) * hgt);
    for (let y = 0; y < hgt; y++) for (let x = 0; x < w; x++) raw[y * (w + 1) + 1 + x] = v(x, y);
    return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

test('an image-to-image run page translates a picture the user gives it', { timeout: 2 * T }, async () => {
    const run = await createRun({ name: 'e2e-sr', dataset: { name: 'fashion-mnist' },
        task: { kind: 'super-resolution', factor: 4 }, model: { g_width: 4, d_width: 4 },
        train: { steps: 4, batch_size: 4 }, every: { log: 2, sample: 4, checkpoint: 4, eval: 4 } });
    await waitStatus(run.id, 'succeeded', 90000);
    await page.goto(`${base}/#/runs/${run.id}`);
    await page.locator('h1', { hasText: 'e2e-sr' }).waitFor();
    // a task run has the translate panel instead of generate, and its evaluation
    // shows the figures against the baseline
    const panel = page.locator('section.translate');
    await panel.waitFor();
    assert.equal(await page.locator('section.generate').count(), 0);
    assert.match(await panel.innerText(), /7×7/);
    await page.locator('[data-metric="psnr_baseline"]').waitFor();
    // PSNR and its baseline in one chart: a point of each at the one evaluation
    await page.waitForFunction(() => +document.querySelector('[data-chart="eval-psnr"]')?.dataset.points === 2);
    assert.equal(await page.locator('[data-chart="eval-psnr_baseline"]').count(), 0);
    const done = () => page.waitForFunction(() => {
        const i = document.querySelector('img[data-role="translated"]');
        return i && !i.hidden && i.complete && i.naturalWidth > 0;
    });
    // the small picture: a 28×28 answer
    await panel.locator('input[type="file"]').setInputFiles({ name: 'small.png', mimeType: 'image/png',
        buffer: grayPng(7, 7, (x, y) => (x * 36) & 255) });
    await done();
    assert.equal(await page.locator('img[data-role="translated"]').evaluate((i) => i.naturalWidth), 28);
    assert.match(await page.locator('[data-role="translate-message"]').innerText(), /small\.png in \d+ ms/);
    // a large one dropped on the panel is scaled to what the run takes first, and the
    // panel says so
    await page.evaluate(() => { document.querySelector('img[data-role="translated"]').hidden = true; });
    const bytes = [...grayPng(28, 28, (x, y) => (x * 9 + y) & 255)];
    const dt = await page.evaluateHandle((b) => {
        const t = new DataTransfer();
        t.items.add(new File([new Uint8Array(b)], 'large.png', { type: 'image/png' }));
        return t;
    }, bytes);
    await page.dispatchEvent('[data-role="drop"]', 'drop', { dataTransfer: dt });
    await done();
    assert.match(await page.locator('[data-role="translate-message"]').innerText(), /scaled from 28×28 to 7×7/);
    // a file that is no picture: the panel says so, nothing is sent
    await panel.locator('input[type="file"]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain',
        buffer: Buffer.from('not a picture') });
    await page.waitForFunction(() => /not a picture/.test(
        document.querySelector('[data-role="translate-message"]').textContent));
    // the sample grid shows the triplets
    await page.waitForFunction(() => {
        const i = document.querySelector('img[data-role="sample"]');
        return i && i.complete && i.naturalWidth === 3 * 30 + 2;
    });
});

test('the launch form takes a task and shows its defaults', { timeout: T }, async () => {
    await page.goto('about:blank');
    await page.goto(`${base}/#/launch`);
    await page.locator('form.launch[data-defaults]').waitFor();
    await page.locator('#f-dataset-name').selectOption('fashion-mnist');
    await page.locator('#f-task').selectOption('inpainting');
    const want = (await api('GET', '/api/v1/spec/defaults?dataset=fashion-mnist&task=inpainting')).data;
    await page.waitForFunction(() => document.querySelector('#f-model-arch').value === 'unet');
    assert.equal(await page.locator('#f-train-batch_size').inputValue(), String(want.train.batch_size));
    assert.equal(await page.locator('#f-tricks-l1_weight').inputValue(), '100');
    // a task run takes no class: the conditional fields do not apply
    assert.equal(await page.locator('#f-model-conditional').isDisabled(), true);
    assert.equal(await page.locator('#f-model-conditioning').isDisabled(), true);
    await page.locator('select[aria-label="task mask"]').selectOption('random');
    await page.getByRole('tab', { name: 'JSON' }).click();
    const spec = JSON.parse(await page.locator('textarea[data-role="json"]').inputValue());
    assert.deepEqual(spec.task, { kind: 'inpainting', mask: 'random' });
    assert.equal(spec.model.arch, 'unet');
    assert.ok(!('conditional' in spec.model), JSON.stringify(spec.model));
});

test('the dashboard logged no console errors', () => {
    assert.deepEqual(consoleErrors, []);
});
