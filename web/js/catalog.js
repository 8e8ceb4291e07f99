/* catalog.js — the daemon's vocabulary and defaults, asked for rather than spelled here.
 *
 *   GET /api/v1/catalog                  once, before the first view: every metric's
 *       name, kind (train or eval), label, help, goal (min, max or null) and format
 *       (number, fraction, count, rate) and what a count is out of; the names of the
 *       datasets (with points: true and their modes for the 2D mixtures), architectures,
 *       losses, optimizers, decay shapes, precisions, presets, gradient penalties, augmentations,
 *       watchdog actions, image-to-image tasks and their masks
 *   GET /api/v1/spec/defaults?dataset=NAME[&loss=NAME][&preset=NAME][&task=KIND]
 *       the whole normalized spec such a run gets, kept per (dataset, loss, preset, task) for
 *       the page's life
 *
 * Labels, formats and the launch form's choices all come from here, so a metric or a
 * spec value the daemon adds shows up without a change to the page. */
import { API, api } from './api.js';

let cat = null;
const metricsByName = new Map();

export async function loadCatalog() {
    const c = await api(`${API}/catalog`);
    cat = {
        metrics: Array.isArray(c && c.metrics) ? c.metrics : [],
        datasets: Array.isArray(c && c.datasets) ? c.datasets : [],
        archs: (c && c.archs) || [],
        losses: (c && c.losses) || [],
        optimizers: (c && c.optimizers) || [],
        decay_shapes: (c && c.decay_shapes) || [],
        precisions: (c && c.precisions) || [],
        presets: (c && c.presets) || [],
        penalties: (c && c.penalties) || [],
        augmentations: (c && c.augmentations) || [],
        watch_actions: (c && c.watch_actions) || [],
        conditionings: (c && c.conditionings) || [],
        tasks: (c && c.tasks) || [],
        masks: (c && c.masks) || [],
    };
    metricsByName.clear();
    for (const m of cat.metrics) metricsByName.set(m.name, m);
    return cat;
}

/* The catalog as loaded: {metrics, datasets, archs, losses, optimizers, decay_shapes,
 * precisions, presets, penalties, augmentations, watch_actions, tasks, masks,
 * conditionings}. */
export function catalog() {
    return cat;
}

/* A metric's entry, or null for a name the catalog does not know. */
export function metric(name) {
    return metricsByName.get(name) || null;
}

export function label(name) {
    const m = metric(name);
    return (m && m.label) || name;
}

/* The metric names of one kind ('train' or 'eval'; all when kind is absent), in the
 * catalog's order. */
export function metricNames(kind) {
    return cat.metrics.filter((m) => !kind || m.kind === kind).map((m) => m.name);
}

export function datasetNames() {
    return cat.datasets.map((d) => d.name);
}

/* A dataset's entry ({name, points, modes}), or null. */
export function datasetInfo(dataset) {
    return cat.datasets.find((x) => x.name === dataset) || null;
}

/* A 2D mixture of points (which only the mlp architecture can model). */
export function isPoints(dataset) {
    const d = datasetInfo(dataset);
    return !!(d && d.points);
}

const defaultsCache = new Map();

/* The spec {"dataset":{"name":dataset},"loss":loss,"preset":preset,"task":{"kind":task}}
 * gets, every field filled in; loss null asks for the daemon's default loss (the
 * preset's, if any), preset null for none, task null for no task. A promise, kept so
 * that asking twice costs one request; a failed request is forgotten so that the next
 * ask tries again. The object is shared: read it, do not change it. */
export function specDefaults(dataset, loss, preset, task) {
    const key = `${dataset}\n${loss || ''}\n${preset || ''}\n${task || ''}`;
    let p = defaultsCache.get(key);
    if (!p) {
        const q = new URLSearchParams({ dataset });
        if (loss) q.set('loss', loss);
        if (preset) q.set('preset', preset);
        if (task) q.set('task', task);
        p = api(`${API}/spec/defaults?${q}`);
        p.catch(() => defaultsCache.delete(key));
        defaultsCache.set(key, p);
    }
    return p;
}
