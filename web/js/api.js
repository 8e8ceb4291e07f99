/* api.js — the REST client of docs/api.md: fetch() with the access token, problem
 * bodies turned into errors, and images and files that need the token to load.
 *
 * The token lives in sessionStorage (this tab only). A 401 asks for it through the
 * page's token dialog, once however many requests were refused at the same time, and
 * the refused request is sent again. */

export const API = '/api/v1';

const TOKEN_KEY = 'ganctl.token';
let tokenWait = null;

export function token() {
    return sessionStorage.getItem(TOKEN_KEY) || '';
}

function authHeaders(extra) {
    const hd = Object.assign({}, extra || {});
    const t = token();
    if (t) hd.Authorization = 'Bearer ' + t;
    return hd;
}

function askToken(refused) {
    if (tokenWait) return tokenWait;
    const dlg = document.getElementById('token-dialog');
    const form = document.getElementById('token-form');
    const input = document.getElementById('token-input');
    const msg = document.getElementById('token-msg');
    msg.hidden = !refused;
    msg.textContent = refused ? 'The daemon refused that token; try again.' : '';
    input.value = '';
    tokenWait = new Promise((resolve) => {
        const done = (e) => {
            e.preventDefault();
            const v = input.value.trim();
            if (!v) return;
            sessionStorage.setItem(TOKEN_KEY, v);
            form.removeEventListener('submit', done);
            dlg.close();
            tokenWait = null;
            resolve();
        };
        form.addEventListener('submit', done);
        // Without a token nothing works, so Escape does not dismiss the prompt.
        dlg.addEventListener('cancel', (e) => e.preventDefault());
        dlg.showModal();
        input.focus();
    });
    return tokenWait;
}

/* A refused request: status is the HTTP status, problem the application/problem+json
 * body (title, detail and, for a spec, errors: [{field, message}]). */
export class ApiError extends Error {
    constructor(status, problem) {
        super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
        this.status = status;
        this.problem = problem || {};
    }
}

/* fetch() against the API with the token; on 401 asks for a token and tries again.
 * opts: method, headers, body (an object is sent as JSON, a Blob as its own type),
 * signal. */
export async function apiFetch(path, opts) {
    opts = opts || {};
    for (;;) {
        const sent = token();
        const init = { method: opts.method || 'GET', headers: authHeaders(opts.headers),
            cache: 'no-store', signal: opts.signal };
        if (opts.body instanceof Blob) { // an image: sent as it is, with its type
            init.body = opts.body;
            init.headers['Content-Type'] = opts.body.type || 'application/octet-stream';
        } else if (opts.body !== undefined) {
            init.body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
            init.headers['Content-Type'] = 'application/json';
        }
        const res = await fetch(path.startsWith('/') ? path : API + '/' + path, init);
        if (res.status !== 401) return res;
        // ask only when no other request has put a new token in place meanwhile
        if (token() === sent) {
            if (sent) sessionStorage.removeItem(TOKEN_KEY);
            await askToken(!!sent);
        }
    }
}

async function problemOf(res) {
    const text = await res.text().catch(() => '');
    try {
        return JSON.parse(text);
    } catch (e) {
        return { title: res.statusText, detail: text.slice(0, 300) };
    }
}

/* The parsed JSON body of a successful request (null for 204); throws ApiError. */
export async function api(path, opts) {
    const res = await apiFetch(path, opts);
    if (!res.ok) throw new ApiError(res.status, await problemOf(res));
    if (res.status === 204) return null;
    return res.json();
}

export async function apiBlob(path, opts) {
    const res = await apiFetch(path, opts);
    if (!res.ok) throw new ApiError(res.status, await problemOf(res));
    return res.blob();
}

/* Shows an image from the API: straight from its URL when no token is needed, through
 * fetch() and an object URL when the request must carry the Authorization header. */
export async function showImage(img, url) {
    if (!token()) {
        img.src = url;
        return;
    }
    const blob = await apiBlob(url);
    if (img.dataset.objectUrl) URL.revokeObjectURL(img.dataset.objectUrl);
    const obj = URL.createObjectURL(blob);
    img.dataset.objectUrl = obj;
    img.src = obj;
}
