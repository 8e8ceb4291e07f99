/* views/launch-fields.js — the launch form's fields: which spec fields it shows (in the
 * groups of docs/spec.md), their hints, when each applies, and the control each kind of
 * field gets. The choices of the dataset, architecture, loss, optimizer and decay
 * fields come from the catalog; the values the fields start with come from
 * GET /api/v1/spec/defaults (views/launch.js). */
import { catalog, isPoints } from '../catalog.js';
import { h } from '../dom.js';

/* o's value at a dotted path such as 'train.steps'; undefined where it has none. */
export const getPath = (o, path) => path.split('.').reduce((a, k) => (a == null ? undefined : a[k]), o);

export function setPath(o, path, v) {
    const ks = path.split('.');
    let cur = o;
    for (const k of ks.slice(0, -1)) {
        if (cur[k] == null || typeof cur[k] !== 'object') cur[k] = {};
        cur = cur[k];
    }
    cur[ks[ks.length - 1]] = v;
}

/* A number typed in a text box: the number when it is one, else the text as typed, so
 * that the API names the field in its error rather than the page guessing. */
function numOrText(s, int) {
    const t = s.trim();
    if (t === '') return undefined;
    const n = Number(t);
    if (!Number.isFinite(n) || (int && !Number.isInteger(n))) return t;
    return n;
}

const isDcgan = (s) => s.model.arch === 'dcgan';
const isUnet = (s) => s.model.arch === 'unet';
const hasWidths = (s) => isDcgan(s) || isUnet(s);
const isMlp = (s) => s.model.arch === 'mlp';
const isImages = (s) => !isPoints(s.dataset.name);
const noTask = (s) => !s.task;

const optimFields = (who, optimizers) => [
    { path: `optimizer.${who}.kind`, label: 'kind', type: 'select', options: optimizers,
        hint: 'adam; sgd with momentum; rmsprop' },
    { path: `optimizer.${who}.lr`, label: 'learning rate', type: 'float', hint: 'in (0, 10]' },
    { path: `optimizer.${who}.beta1`, label: 'beta1', type: 'float', hint: 'adam β1 or sgd momentum, in [0, 1)' },
    { path: `optimizer.${who}.beta2`, label: 'beta2', type: 'float', hint: 'adam β2 or rmsprop decay, in [0, 1)' },
    { path: `optimizer.${who}.eps`, label: 'eps', type: 'float', hint: 'adam and rmsprop epsilon, in (0, 1)' },
];

/* The groups of fields: [{legend, fields: [{path, label, type, options?, when?, hint}]}].
 * type: text, int, optint (a number or none), float, optfloat, select (options; a null
 * option is written 'none'), tristate (none, true, false), bool, classes (a list of
 * labels), smoothing (none, a value or a range), decay (none or a schedule), penalty
 * (none or a kind with weight and every), flags (a checkbox per option, joined by
 * commas; none checked: null), task (none or a kind with its factor, mask or source
 * folder). when(s) says whether the field applies to a spec with s.dataset.name,
 * s.model.arch, s.model.conditional and s.task. */
export function formGroups() {
    const cat = catalog();
    return [
        { legend: 'Run', fields: [
            { path: 'name', label: 'name', type: 'text', hint: 'shown in the run list; empty: <dataset>-<loss>' },
            { path: 'preset', label: 'preset', type: 'select', options: [null, ...cat.presets],
                hint: 'a published recipe whose loss, optimizers and tricks fill in the fields below; edit any of them' },
            { path: 'loss', label: 'loss', type: 'select', options: cat.losses,
                hint: 'nonsaturating, minimax, wasserstein (critic with weight clipping), least-squares, hinge' },
        ] },
        { legend: 'Dataset', fields: [
            { path: 'dataset.name', label: 'dataset', type: 'select', options: cat.datasets.map((d) => d.name),
                hint: 'fashion-mnist images, an IDX3 file, a folder of PNGs, or the 2D mixtures ring8 / grid25' },
            { path: 'dataset.split', label: 'split', type: 'select', options: ['train', 'test'],
                when: (s) => s.dataset.name === 'fashion-mnist', hint: 'fashion-mnist only' },
            { path: 'dataset.classes', label: 'classes', type: 'classes',
                when: (s) => s.dataset.name === 'fashion-mnist', hint: 'keep only these labels, e.g. 0,7,9; empty: all ten' },
            { path: 'dataset.path', label: 'path', type: 'text',
                when: (s) => s.dataset.name === 'idx' || s.dataset.name === 'png-dir',
                hint: 'idx: an IDX3 image file (gz or not); png-dir: a folder of PNGs, or of one subfolder per class; inside the daemon\'s dataset folder' },
            { path: 'dataset.labels_path', label: 'labels', type: 'text',
                when: (s) => s.dataset.name === 'idx',
                hint: 'idx: an IDX1 file of one label per image (as MNIST ships); needed for a conditional run' },
            { path: 'dataset.image_size', label: 'image size', type: 'int',
                when: (s) => s.dataset.name === 'png-dir', hint: 'png-dir: side after scaling and center crop, 8 to 256' },
            { path: 'dataset.channels', label: 'channels', type: 'select', options: [1, 3],
                when: (s) => s.dataset.name === 'png-dir', hint: 'png-dir: 1 gray or 3 RGB' },
            { path: 'dataset.subset', label: 'subset', type: 'optint', when: isImages,
                hint: 'train on this many images, spread over the set (the same for every seed); empty: all' },
            { path: 'task', label: 'task', type: 'task', options: cat.tasks, masks: cat.masks,
                when: (s) => !isPoints(s.dataset.name),
                hint: 'none: G makes images from noise; a task: G turns an input (the image shrunk, with a hole, its edges, its gray, or a second folder\'s image) into the image' },
        ] },
        { legend: 'Model', fields: [
            { path: 'model.arch', label: 'architecture', type: 'select', options: cat.archs,
                hint: 'mlp for 2D sets (required there); dcgan for images; unet for a task (required there)' },
            { path: 'model.z_dim', label: 'z_dim', type: 'int', hint: 'latent size, 1 to 4096' },
            { path: 'model.g_width', label: 'g_width', type: 'int', when: hasWidths, hint: 'dcgan and unet: generator base width, 1 to 1024' },
            { path: 'model.d_width', label: 'd_width', type: 'int', when: hasWidths, hint: 'dcgan and unet: discriminator base width, 1 to 1024' },
            { path: 'model.hidden', label: 'hidden', type: 'int', when: isMlp, hint: 'mlp: units per hidden layer' },
            { path: 'model.layers', label: 'layers', type: 'int', when: isMlp, hint: 'mlp: hidden layers, 1 to 16' },
            { path: 'model.batch_norm', label: 'batch norm', type: 'bool', hint: 'batch normalization in the generator' },
            { path: 'model.patch', label: 'PatchGAN', type: 'bool', when: hasWidths,
                hint: 'dcgan: D gives a map of logits, loss averaged over patches (a task always has it)' },
            { path: 'model.spectral_norm', label: 'spectral norm', type: 'bool',
                hint: 'spectral normalization of every weight of D (SNGAN; not with a task)' },
            { path: 'model.d_batch_norm', label: 'D batch norm', type: 'tristate', when: hasWidths,
                hint: 'batch norm in D\'s inner blocks; none: as the generator\'s' },
            { path: 'model.conditional', label: 'conditional', type: 'bool', when: noTask,
                hint: 'G and D get each sample\'s class: generate asks for classes (labelled data: fashion-mnist, idx with labels, png-dir with a subfolder per class, ring8 / grid25 by mode); not with a task' },
            { path: 'model.conditioning', label: 'conditioning', type: 'select', options: cat.conditionings,
                when: (s) => s.model.conditional === true && noTask(s),
                hint: 'how D gets the class: projection (an embedding dotted with its features) or concat (one-hot maps beside the image)' },
        ] },
        { legend: 'Training', fields: [
            { path: 'train.steps', label: 'steps', type: 'int', hint: 'generator steps, 1 to 10,000,000' },
            { path: 'train.batch_size', label: 'batch size', type: 'int', hint: '1 to 4096' },
            { path: 'train.d_steps', label: 'd_steps', type: 'int', hint: 'discriminator steps per generator step' },
            { path: 'train.seed', label: 'seed', type: 'int', hint: 'same seed, same run, bit for bit' },
            { path: 'train.lr_decay', label: 'lr decay', type: 'decay', options: cat.decay_shapes,
                hint: 'both learning rates fall from the fraction start of the run to factor × their value at the end, linearly or at once (step); none: constant' },
            { path: 'train.precision', label: 'precision', type: 'select', options: cat.precisions,
                hint: 'bf16: matrix products on bfloat16 inputs with float32 sums (CPUs with AVX512-BF16; float32 elsewhere), weights stay float32' },
            { path: 'train.ranks', label: 'ranks', type: 'int',
                hint: 'processes training the run together over MPI, each on a part of the batch (must divide it); more than 1 needs a daemon started with --mpirun' },
        ] },
        { legend: 'Generator optimizer', fields: optimFields('g', cat.optimizers) },
        { legend: 'Discriminator optimizer', fields: optimFields('d', cat.optimizers) },
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
                hint: 'wasserstein: the critic\'s weights are clipped to [-c, c]; empty: none' },
            { path: 'tricks.ema', label: 'weight average', type: 'optfloat',
                hint: 'decay in (0, 1), e.g. 0.999: samples and evaluations use a moving average of G\'s weights; empty: none' },
            { path: 'tricks.gradient_penalty', label: 'gradient penalty', type: 'penalty', options: cat.penalties,
                hint: 'wgan-gp: (|∇D| − 1)² at interpolates of real and fake; r1: |∇D|²/2 on real data; every k: on every k-th D update, times k' },
            { path: 'tricks.diffaugment', label: 'DiffAugment', type: 'flags', options: cat.augmentations, when: isImages,
                hint: 'differentiable augmentations of real and fake images before D: for small datasets' },
            { path: 'tricks.l1_weight', label: 'L1 weight', type: 'float', when: isUnet,
                hint: 'task runs: G\'s loss adds this × the L1 distance to the target (pix2pix: 100)' },
        ] },
        { legend: 'Watchdog', fields: [
            { path: 'watch.action', label: 'action', type: 'select', options: cat.watch_actions,
                hint: 'on divergence, D winning or mode collapse: off, alert (an event, a record, the webhook), or rollback (and back to the best calm checkpoint with halved rates)' },
            { path: 'watch.max_rollbacks', label: 'max rollbacks', type: 'int', hint: 'rollback: at most this many, then alerts only' },
            { path: 'watch.window', label: 'window', type: 'int', hint: 'steps a condition must hold (D winning, G\'s gradient vanishing)' },
            { path: 'watch.loss_max', label: 'loss max', type: 'float', hint: 'divergence: |loss| above it (NaN and Inf always)' },
            { path: 'watch.grad_factor', label: 'gradient factor', type: 'float', hint: 'divergence: a gradient norm this many times its early level' },
            { path: 'watch.d_margin', label: 'D margin', type: 'float', hint: 'D winning: D(x) > 1 − m and D(G(z)) < m' },
            { path: 'watch.vanish_factor', label: 'vanish factor', type: 'float', hint: 'D winning: G\'s gradient norm below this times its level' },
            { path: 'watch.eval_patience', label: 'eval patience', type: 'int', hint: 'mode collapse: evaluations in a row a figure must be worse' },
            { path: 'watch.eval_worsen', label: 'eval worsen', type: 'float', hint: 'mode collapse: how far from its best is worse (0.25: a quarter)' },
            { path: 'watch.warmup', label: 'warmup', type: 'float', hint: 'the fraction of the steps before the evaluation rule starts' },
        ] },
        { legend: 'Every (steps; 0 turns it off)', fields: [
            { path: 'every.log', label: 'log', type: 'int', hint: 'metrics' },
            { path: 'every.sample', label: 'sample', type: 'int', hint: 'a sample grid' },
            { path: 'every.checkpoint', label: 'checkpoint', type: 'int', hint: 'a checkpoint to resume from' },
            { path: 'every.eval', label: 'eval', type: 'int', hint: 'the evaluation (modes, FID, SWD, ...)' },
        ] },
    ];
}

/* The real label drawn from [lo, hi]: a range suggested when one is first chosen. */
function smoothingControl(id) {
    const input = h('select', { id }, ['none', 'fixed', 'range'].map((o) => h('option', { value: o }, o)));
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
    const get = () => {
        if (input.value === 'none') return null;
        if (input.value === 'fixed') return numOrText(lo.value) ?? null;
        return [numOrText(lo.value) ?? null, numOrText(hi.value) ?? null];
    };
    const set = (v) => {
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
    return { input, extra: [lo, hi], get, set };
}

/* A schedule's shape, start and factor. A start or factor left empty is left out, and
 * the daemon gives it its default. */
function decayControl(id, shapes) {
    const input = h('select', { id }, ['none', ...shapes].map((o) => h('option', { value: o }, o)));
    const start = h('input', { type: 'text', inputmode: 'decimal', 'aria-label': 'lr decay start',
        placeholder: 'start', title: 'start: fraction of the steps at the full rate, in [0, 1)' });
    const factor = h('input', { type: 'text', inputmode: 'decimal', 'aria-label': 'lr decay factor',
        placeholder: 'factor', title: 'factor: final rate over the optimizer\'s rate, in (0, 1]' });
    const sync = () => {
        start.hidden = factor.hidden = input.value === 'none';
    };
    input.addEventListener('change', sync);
    const get = () => {
        if (input.value === 'none') return null;
        const o = {};
        const s = numOrText(start.value), f = numOrText(factor.value);
        if (s !== undefined) o.start = s;
        if (f !== undefined) o.factor = f;
        o.shape = input.value;
        return o;
    };
    const set = (v) => {
        const on = v && typeof v === 'object';
        input.value = on && shapes.includes(v.shape) ? v.shape : on ? shapes[0] : 'none';
        start.value = on && v.start != null ? String(v.start) : '';
        factor.value = on && v.factor != null ? String(v.factor) : '';
        sync();
    };
    return { input, extra: [start, factor], get, set };
}

/* An image-to-image task: none or a kind, with the factor, mask and source folder of
 * the kinds that take them. */
function taskControl(id, kinds, masks) {
    const input = h('select', { id }, ['none', ...kinds].map((o) => h('option', { value: o }, o)));
    const factor = h('select', { 'aria-label': 'task factor', title: 'super-resolution: the factor' },
        [2, 4].map((o) => h('option', { value: String(o) }, `×${o}`)));
    const mask = h('select', { 'aria-label': 'task mask', title: 'inpainting: the hole' },
        masks.map((o) => h('option', { value: o }, o)));
    const source = h('input', { type: 'text', 'aria-label': 'task source path', placeholder: 'source folder',
        title: 'paired: the folder of input PNGs, named as the targets in dataset.path' });
    const sync = () => {
        factor.hidden = input.value !== 'super-resolution';
        mask.hidden = input.value !== 'inpainting';
        source.hidden = input.value !== 'paired';
    };
    input.addEventListener('change', sync);
    const get = () => {
        if (input.value === 'none') return null;
        const o = { kind: input.value };
        if (input.value === 'super-resolution') o.factor = Number(factor.value);
        if (input.value === 'inpainting') o.mask = mask.value;
        if (input.value === 'paired') o.source_path = source.value.trim() || null;
        return o;
    };
    const set = (v) => {
        const on = v && typeof v === 'object';
        input.value = on && kinds.includes(v.kind) ? v.kind : 'none';
        factor.value = on && v.factor ? String(v.factor) : '4';
        mask.value = on && v.mask ? v.mask : masks[0] || 'center';
        source.value = on && v.source_path ? v.source_path : '';
        sync();
    };
    return { input, extra: [factor, mask, source], get, set };
}

/* A penalty's kind (or none), weight and every. Fields left empty are left out, and
 * the daemon gives them their defaults. */
function penaltyControl(id, kinds) {
    const input = h('select', { id }, ['none', ...kinds].map((o) => h('option', { value: o }, o)));
    const weight = h('input', { type: 'text', inputmode: 'decimal', 'aria-label': 'penalty weight',
        placeholder: 'weight', title: 'weight: lambda of WGAN-GP, gamma of R1, in (0, 1000]' });
    const every = h('input', { type: 'text', inputmode: 'numeric', 'aria-label': 'penalty every',
        placeholder: 'every', title: 'every: on every k-th D update only, weighted by k' });
    const sync = () => {
        weight.hidden = every.hidden = input.value === 'none';
    };
    input.addEventListener('change', sync);
    const get = () => {
        if (input.value === 'none') return null;
        const o = { kind: input.value };
        const w = numOrText(weight.value), e = numOrText(every.value, true);
        if (w !== undefined) o.weight = w;
        if (e !== undefined) o.every = e;
        return o;
    };
    const set = (v) => {
        const on = v && typeof v === 'object';
        input.value = on && kinds.includes(v.kind) ? v.kind : on ? kinds[0] : 'none';
        weight.value = on && v.weight != null ? String(v.weight) : '';
        every.value = on && v.every != null ? String(v.every) : '';
        sync();
    };
    return { input, extra: [weight, every], get, set };
}

/* A checkbox per name; the value is the checked names joined by commas, or null. */
function flagsControl(id, names) {
    const boxes = names.map((n, i) => h('input', { type: 'checkbox', id: i ? null : id, value: n }));
    const labelled = boxes.map((b, i) => h('label', { class: 'flag' }, b, ' ' + names[i]));
    const get = () => {
        const on = boxes.filter((b) => b.checked).map((b) => b.value);
        return on.length ? on.join(',') : null;
    };
    const set = (v) => {
        const on = typeof v === 'string' ? v.split(',') : [];
        for (const b of boxes) b.checked = on.includes(b.value);
    };
    return { input: boxes[0], extra: labelled.slice(1), first: labelled[0], get, set };
}

/* null, true or false: a select of 'none', 'on' and 'off'. */
function tristateControl(id) {
    const values = { none: null, on: true, off: false };
    const input = h('select', { id }, Object.keys(values).map((o) => h('option', { value: o }, o)));
    return {
        input,
        get: () => values[input.value],
        set: (v) => { input.value = v === true ? 'on' : v === false ? 'off' : 'none'; },
    };
}

/* A select of options; a null option shows as 'none'. */
function selectControl(id, options) {
    const text = (o) => (o == null ? 'none' : String(o));
    const input = h('select', { id }, options.map((o) => h('option', { value: text(o) }, text(o))));
    return {
        input,
        get: () => {
            const o = options.find((x) => text(x) === input.value);
            return o === undefined ? input.value : o;
        },
        set: (v) => { input.value = text(v == null ? options[0] : v); },
    };
}

function textControl(id, f) {
    const int = f.type === 'int' || f.type === 'optint';
    const numeric = int || f.type === 'float' || f.type === 'optfloat';
    const input = h('input', { id, type: 'text', autocomplete: 'off',
        inputmode: int ? 'numeric' : numeric ? 'decimal' : null,
        placeholder: f.type === 'optfloat' || f.type === 'optint' ? 'none' : null });
    const get = () => {
        if (f.type === 'classes') {
            const t = input.value.trim();
            if (!t) return null;
            return t.split(/[\s,]+/).filter(Boolean).map((p) => numOrText(p, true));
        }
        if (numeric) return numOrText(input.value, int) ?? null;
        return input.value.trim() === '' ? null : input.value;
    };
    const set = (v) => {
        input.value = v == null ? '' : Array.isArray(v) ? v.join(',') : String(v);
    };
    return { input, get, set };
}

/* One field's row: {f, wrap, input, errEl, get(), set(v)}. get() gives the field's
 * value as the spec has it (null for none), set(v) shows one. The row is
 * .field[data-field=PATH]; its control is #f-PATH with dots as dashes. */
export function makeControl(f) {
    const id = 'f-' + f.path.replace(/\./g, '-');
    let ctl;
    if (f.type === 'select') ctl = selectControl(id, f.options);
    else if (f.type === 'bool') {
        const input = h('input', { id, type: 'checkbox' });
        ctl = { input, get: () => input.checked, set: (v) => { input.checked = !!v; } };
    } else if (f.type === 'smoothing') ctl = smoothingControl(id);
    else if (f.type === 'decay') ctl = decayControl(id, f.options);
    else if (f.type === 'penalty') ctl = penaltyControl(id, f.options);
    else if (f.type === 'flags') ctl = flagsControl(id, f.options);
    else if (f.type === 'tristate') ctl = tristateControl(id);
    else if (f.type === 'task') ctl = taskControl(id, f.options, f.masks);
    else ctl = textControl(id, f);
    const errEl = h('div', { class: 'field-error', hidden: true, 'data-error-for': f.path });
    const wrap = h('div', { class: 'field', dataset: { field: f.path } },
        h('label', { for: id }, f.label),
        h('div', { class: 'control' }, ctl.first || ctl.input, ctl.extra || null),
        h('div', { class: 'hint' }, f.hint || ''), errEl);
    return { f, wrap, input: ctl.input, errEl, get: ctl.get, set: ctl.set };
}
