/* dom.js — building the page. Elements are made from plain data with h(); every string
 * from the API reaches the page through textContent or an attribute, never as HTML. */
import { ApiError } from './api.js';

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'textContent']);

/* h('a', {href, class, dataset: {...}, onclick: fn}, kids...): an element. Props that
 * are null or false are left out; kids may nest in arrays and skip null and false. */
export function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
        if (v == null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'dataset') Object.assign(el.dataset, v);
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (PROPS.has(k)) el[k] = v;
        else el.setAttribute(k, v === true ? '' : String(v));
    }
    append(el, kids);
    return el;
}

export function append(el, kids) {
    for (const kid of kids.flat(Infinity)) {
        if (kid == null || kid === false) continue;
        el.append(kid instanceof Node ? kid : String(kid));
    }
    return el;
}

export function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
}

/* The element the router renders views into. */
export const view = () => document.getElementById('view');

let toastTimer = 0;
export function toast(msg) {
    const el = document.getElementById('toast');
    el.textContent = msg;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
}

export function errorBox(e) {
    const msg = e instanceof ApiError ? `${e.status}: ${e.message}` : String(e.message || e);
    return h('div', { class: 'error-box' }, msg);
}

/* Hands a blob to the browser as a download named filename. */
export function saveBlob(blob, filename) {
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: filename, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
}
