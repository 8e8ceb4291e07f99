/* format.js — numbers, sizes and times as the page prints them. A metric is printed in
 * the format the catalog gives it. */
import { datasetInfo, metric } from './catalog.js';

export function fmtNum(v) {
    if (v == null || typeof v !== 'number' || !isFinite(v)) return '—';
    const a = Math.abs(v);
    if (a === 0) return '0';
    if (a >= 10000) return Math.round(v).toLocaleString('en-US');
    if (a >= 100) return v.toFixed(1);
    if (a >= 0.01) return String(Number(v.toPrecision(4)));
    return v.toExponential(2);
}

/* A figure the way people read it: a fraction as a percentage, a count whole (and, for
 * a count out of a property of the dataset such as its modes, "7/8" when the run's
 * dataset name is given), a rate without decimals once it is large; anything else (and
 * a name the catalog does not know) as a plain number. */
export function fmtMetric(name, v, dataset) {
    if (typeof v !== 'number' || !isFinite(v)) return '—';
    const m = metric(name);
    switch (m && m.format) {
    case 'fraction':
        return `${(v * 100).toFixed(1)}%`;
    case 'count': {
        const whole = Math.round(v).toLocaleString('en-US');
        const d = m.out_of && dataset ? datasetInfo(dataset) : null;
        return d && typeof d[m.out_of] === 'number' ? `${whole}/${d[m.out_of]}` : whole;
    }
    case 'rate':
        return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : fmtNum(v);
    default:
        return fmtNum(v);
    }
}

export function fmtBytes(n) {
    if (typeof n !== 'number') return '—';
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1048576).toFixed(1) + ' MiB';
}

/* How long ago a timestamp was: "12s ago", "3h ago". */
export function age(ts) {
    const t = Date.parse(ts || '');
    if (!isFinite(t)) return '—';
    const s = Math.max(0, (Date.now() - t) / 1000);
    if (s < 60) return Math.floor(s) + 's ago';
    if (s < 3600) return Math.floor(s / 60) + 'm ago';
    if (s < 86400) return Math.floor(s / 3600) + 'h ago';
    return Math.floor(s / 86400) + 'd ago';
}

/* The time from a to b (or to now): "1h 5m", "3m 12s". */
export function duration(a, b) {
    const t0 = Date.parse(a || ''), t1 = b ? Date.parse(b) : Date.now();
    if (!isFinite(t0) || !isFinite(t1)) return '—';
    let s = Math.max(0, Math.round((t1 - t0) / 1000));
    const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60);
    s %= 60;
    return hh ? `${hh}h ${mm}m` : mm ? `${mm}m ${s}s` : `${s}s`;
}
