/* summary.js — a run in a few words and widgets, shared by the runs table and the run
 * page: its status badge, progress bar, dataset, tricks and newest evaluation. */
import { label, metricNames } from './catalog.js';
import { h } from './dom.js';
import { fmtMetric } from './format.js';

export function statusBadge(st) {
    return h('span', { class: `status st-${st} ${st}`, dataset: { status: st } }, st);
}

export function progressBar(run) {
    const steps = run.steps || (run.spec && run.spec.train && run.spec.train.steps) || 0;
    const step = run.step || 0;
    const pct = steps ? Math.min(100, (100 * step) / steps) : 0;
    return h('div', { class: `progress st-${run.status}`, title: `${pct.toFixed(1)}%` },
        h('span', { style: `width:${pct}%` }),
        h('em', {}, `${step.toLocaleString('en-US')} / ${steps.toLocaleString('en-US')}`));
}

/* The tricks a spec turns on, e.g. "smoothing 0.9, unrolled 5"; '' for none. */
export function tricksText(spec) {
    const t = spec.tricks || {};
    const out = [];
    if (spec.preset) out.push(`preset ${spec.preset}`);
    const ls = t.label_smoothing;
    if (Array.isArray(ls)) out.push(`smoothing ${ls[0]}–${ls[1]}`);
    else if (typeof ls === 'number') out.push(`smoothing ${ls}`);
    if (t.feature_matching) out.push('feature matching');
    if (t.unrolled_steps > 0) out.push(`unrolled ${t.unrolled_steps}`);
    if (t.generators > 1) out.push(`MAD-GAN ×${t.generators}`);
    if (typeof t.weight_clip === 'number' && t.weight_clip > 0) out.push(`clip ${t.weight_clip}`);
    if (typeof t.ema === 'number' && t.ema > 0) out.push(`EMA ${t.ema}`);
    const gp = t.gradient_penalty;
    if (gp && typeof gp === 'object') {
        out.push(`${gp.kind === 'r1' ? 'R1' : 'WGAN-GP'} ${gp.weight}${gp.every > 1 ? ` every ${gp.every}` : ''}`);
    }
    if (typeof t.diffaugment === 'string') out.push(`DiffAugment ${t.diffaugment}`);
    if (spec.model && spec.model.spectral_norm) out.push('spectral norm');
    if (spec.dataset && spec.dataset.subset) out.push(`${spec.dataset.subset} images`);
    const ld = spec.train && spec.train.lr_decay;
    if (ld && typeof ld === 'object') out.push(`lr decay ×${ld.factor} from ${ld.start} (${ld.shape})`);
    if (spec.model && spec.model.patch) out.push('PatchGAN');
    return out.join(', ');
}

export function datasetText(spec) {
    const d = (spec.dataset && spec.dataset.name) || '?';
    const a = spec.model && spec.model.arch;
    return a ? `${d} · ${a}` : d;
}

/* The newest evaluation in a table cell: the first two figures the run has, in the
 * catalog's order (which puts each dataset's headline figures first). */
export function evalText(run) {
    const e = run.eval || {};
    const shown = metricNames('eval').filter((n) => typeof e[n] === 'number').slice(0, 2);
    const ds = run.spec && run.spec.dataset && run.spec.dataset.name;
    return shown.map((n) => `${label(n)} ${fmtMetric(n, e[n], ds)}`).join(' · ') || '—';
}
