/* views/launch.js — #/launch[?from=ID]: the launch form and the raw JSON editor for a
 * run spec, sent to POST /api/v1/runs; the API's field errors show beside their fields.
 *
 * Every field starts at what GET /api/v1/spec/defaults serves for the chosen dataset,
 * loss and preset. Choosing another dataset, loss or preset brings its defaults into
 * every field the user has not edited; with a preset chosen, a loss the user has not
 * chosen is the preset's. The defaults of every dataset for the current loss are
 * fetched before the form shows, so switching datasets fills the fields at once.
 * ?from=ID fills the form with that run's spec, named NAME-copy. The form carries
 * data-defaults="DATASET/LOSS" (and data-preset="PRESET" or "none") once it shows
 * those defaults. */
import { API, ApiError, api } from '../api.js';
import { datasetNames, isPoints, specDefaults } from '../catalog.js';
import { clear, errorBox, h, toast, view } from '../dom.js';
import { formGroups, getPath, makeControl, setPath } from './launch-fields.js';

/* The spec's top-level keys in the order of docs/spec.md, so the JSON tab reads like it. */
const ORDER = ['name', 'preset', 'dataset', 'task', 'model', 'loss', 'train', 'optimizer', 'tricks', 'every', 'watch'];

/* Asks for the defaults of every dataset with this loss, so a switch finds them ready. */
const prefetch = (loss) => Promise.all(datasetNames().map((ds) => specDefaults(ds, loss)));

export function launchView(params) {
    const root = clear(view());
    root.append(h('div', { class: 'loading' }, 'Loading the defaults…'));
    const controls = new Map(); // path -> {f, wrap, input, errEl, get(), set(v), touched}
    let mode = 'form';
    let closed = false;
    let asked = 0; // the newest request for defaults: the answers to older ones are dropped

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

    const clearError = (c) => {
        c.errEl.hidden = true;
        c.errEl.textContent = '';
        c.wrap.classList.remove('invalid');
    };
    const clearErrors = () => {
        for (const c of controls.values()) clearError(c);
        clear(formErr);
    };

    for (const g of formGroups()) {
        const rows = g.fields.map((f) => {
            const c = Object.assign(makeControl(f), { touched: false });
            const touch = () => {
                c.touched = true;
                clearError(c);
            };
            c.wrap.addEventListener('input', touch);
            c.wrap.addEventListener('change', touch);
            controls.set(f.path, c);
            return c.wrap;
        });
        groupsEl.append(h('fieldset', { dataset: { group: g.legend } }, h('legend', {}, g.legend), rows));
    }
    const dsCtl = controls.get('dataset.name');
    const lossCtl = controls.get('loss');
    const presetCtl = controls.get('preset');
    /* the loss to ask the defaults for: null lets a chosen preset bring its own */
    const lossAsked = () => (presetCtl.get() && !lossCtl.touched ? null : lossCtl.get());
    const archCtl = controls.get('model.arch');
    const nameCtl = controls.get('name');
    const condCtl = controls.get('model.conditional');
    const taskCtl = controls.get('task');
    const taskKind = () => (taskCtl.get() || {}).kind || null;

    const chosen = () => ({ dataset: { name: dsCtl.get() },
        model: { arch: archCtl.get(), conditional: condCtl.get() }, task: taskCtl.get() || null });

    /* The spec the form describes: fields that do not apply are left out. */
    const readForm = () => {
        const s = {};
        const cur = chosen();
        for (const c of controls.values()) {
            if (c.f.when && !c.f.when(cur)) continue;
            const v = c.get();
            if (c.f.path === 'name' && v == null) continue;
            setPath(s, c.f.path, v);
        }
        return Object.fromEntries(ORDER.filter((k) => k in s).map((k) => [k, s[k]]));
    };

    /* Greys out the fields that do not apply to the chosen dataset, architecture and
     * conditioning. */
    const applyWhen = () => {
        const cur = chosen();
        for (const c of controls.values()) {
            const on = !c.f.when || c.f.when(cur);
            c.wrap.classList.toggle('off', !on);
            for (const el of c.wrap.querySelectorAll('input, select')) el.disabled = !on;
        }
    };

    /* The defaults of the chosen dataset and loss, in every field the user has not
     * edited (force: in every field, edited or not). False when a newer choice
     * overtook this one; throws when the daemon refuses. */
    const applyDefaults = async (force) => {
        const ds = dsCtl.get(), preset = presetCtl.get(), loss = lossAsked();
        const task = isPoints(ds) ? null : taskKind();
        const mine = ++asked;
        form.removeAttribute('data-defaults');
        const d = await specDefaults(ds, loss, preset, task);
        if (mine !== asked || closed) return false;
        if (!loss) lossCtl.set(d.loss);
        for (const [path, c] of controls) {
            if (path === 'dataset.name' || path === 'loss' || path === 'preset' || (path === 'task' && task)) continue;
            if (force) c.touched = false;
            // the name is the one default that is better shown than filled in
            if (path === 'name') {
                if (force) c.set(null);
                continue;
            }
            if (!c.touched) c.set(getPath(d, path));
        }
        nameCtl.input.placeholder = d.name || '';
        // a set of points, and a task, need the architecture their defaults name
        if (isPoints(ds) || task) archCtl.set(d.model.arch);
        applyWhen();
        form.dataset.preset = preset || 'none';
        form.dataset.defaults = `${ds}/${d.loss}`;
        return true;
    };

    /* Shows spec: its dataset's, loss's and task's defaults, then every field it names. */
    const fillForm = async (spec) => {
        const ds = getPath(spec, 'dataset.name') || dsCtl.get();
        const preset = spec.preset || null;
        const loss = spec.loss || (await specDefaults(ds, null, preset)).loss;
        // a dataset, loss or preset the daemon does not know is refused here, by name
        await specDefaults(ds, loss, preset);
        dsCtl.set(ds);
        presetCtl.set(preset);
        lossCtl.set(loss);
        lossCtl.touched = !!spec.loss; // a loss the spec names stays, whatever the preset
        taskCtl.set(spec.task || null);
        if (!(await applyDefaults(true))) return;
        for (const [path, c] of controls) {
            const v = getPath(spec, path);
            if (v !== undefined) {
                c.set(v);
                c.touched = true;
            }
        }
        applyWhen();
    };

    const showFailure = (e) => formErr.append(errorBox(e));
    dsCtl.input.addEventListener('change', () => applyDefaults(false).catch(showFailure));
    lossCtl.input.addEventListener('change', () => {
        applyDefaults(false).catch(showFailure);
        prefetch(lossCtl.get()).catch(() => {});
    });
    presetCtl.input.addEventListener('change', () => applyDefaults(false).catch(showFailure));
    archCtl.input.addEventListener('change', applyWhen);
    condCtl.input.addEventListener('change', applyWhen);
    // a task brings its own defaults (unet, PatchGAN, ...) into the fields not edited
    taskCtl.input.addEventListener('change', () => applyDefaults(false).catch(showFailure));

    const switchMode = async (m) => {
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
            try {
                await fillForm(spec || {});
            } catch (e) {
                clear(formErr).append(errorBox(e));
                return;
            }
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

    const reset = () => {
        clearErrors();
        lossCtl.touched = false;
        applyDefaults(true).catch(showFailure);
    };

    const form = h('form', { class: 'launch', novalidate: true, onsubmit: submit },
        h('div', { class: 'page-head' }, h('h1', {}, 'Launch a run'), h('div', { class: 'tabs', role: 'tablist' },
            tabForm, tabJson), h('span', { class: 'spacer' }),
        h('button', { type: 'button', onclick: reset }, 'Reset to defaults')),
        formErr, groupsEl, jsonPane,
        h('div', { class: 'form-actions' }, submitBtn,
            h('span', { class: 'muted' }, 'The daemon checks the spec; problems show next to the field.')));

    (async () => {
        try {
            // the first dataset the catalog lists, with the daemon's default loss
            const first = await specDefaults(datasetNames()[0], null);
            await prefetch(first.loss);
            if (closed) return;
            await fillForm({ dataset: { name: first.dataset.name }, loss: first.loss });
            for (const c of controls.values()) c.touched = false;
        } catch (e) {
            if (!closed) clear(root).append(h('h1', {}, 'Launch a run'), errorBox(e));
            return;
        }
        if (closed) return;
        clear(root).append(form);

        const from = Number(params.get('from'));
        if (Number.isInteger(from) && from > 0) {
            try {
                const run = await api(`${API}/runs/${from}`);
                const spec = JSON.parse(JSON.stringify(run.spec || {}));
                spec.name = `${run.name || 'run'}-copy`;
                await fillForm(spec);
                jsonArea.value = JSON.stringify(spec, null, 2);
            } catch (e) {
                formErr.append(errorBox(e));
            }
        }
    })();

    return () => {
        closed = true;
    };
}
