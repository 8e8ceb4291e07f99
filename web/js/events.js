/* events.js — the daemon's event streams (GET /api/v1/events and /api/v1/runs/ID/events)
 * and the top bar's live dot.
 *
 * The streams are read with fetch() and a stream reader rather than EventSource,
 * because EventSource cannot send the Authorization header that a daemon with a token
 * requires. A dropped stream reconnects with back-off and resumes with Last-Event-ID. */
import { apiFetch } from './api.js';

/* The top bar's dot: hidden on pages without a stream, "connecting" until one is up. */
let streamsOpen = 0;
let streamsUp = 0;
function setLive(dOpen, dUp) {
    streamsOpen += dOpen;
    streamsUp += dUp;
    const el = document.getElementById('live');
    el.hidden = streamsOpen === 0;
    el.classList.toggle('on', streamsUp > 0);
    el.textContent = streamsUp > 0 ? 'live' : 'connecting…';
}

/* Reads a text/event-stream: reconnects with back-off, resumes with Last-Event-ID,
 * ignores comment heartbeats. onEvent gets {type, id, data} where data is the parsed
 * JSON when it parses. onOpen runs on each (re)connection. Returns {close()}. */
export function openStream(path, onEvent, onOpen) {
    let stopped = false;
    let ctrl = null;
    let lastId = '';
    let retry = 1000;
    let connected = false;

    const dispatch = (ev) => {
        let data = ev.data;
        try {
            data = JSON.parse(ev.data);
        } catch (e) { /* plain text payload */ }
        try {
            onEvent({ type: ev.type || 'message', id: ev.id, data });
        } catch (e) {
            console.warn('ganctl: event handler failed', e);
        }
    };

    const run = async () => {
        while (!stopped) {
            ctrl = new AbortController();
            try {
                const hd = { Accept: 'text/event-stream' };
                if (lastId) hd['Last-Event-ID'] = lastId;
                const res = await apiFetch(path, { headers: hd, signal: ctrl.signal });
                if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
                connected = true;
                setLive(0, 1);
                retry = 1000;
                if (onOpen) onOpen();
                const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
                let buf = '';
                let ev = { type: '', data: [], id: '' };
                for (;;) {
                    const { value, done } = await reader.read();
                    if (done) break;
                    buf += value;
                    let nl;
                    while ((nl = buf.indexOf('\n')) >= 0) {
                        let line = buf.slice(0, nl);
                        buf = buf.slice(nl + 1);
                        if (line.endsWith('\r')) line = line.slice(0, -1);
                        if (line === '') {
                            if (ev.data.length) {
                                dispatch({ type: ev.type, id: lastId, data: ev.data.join('\n') });
                            }
                            ev = { type: '', data: [], id: '' };
                            continue;
                        }
                        if (line[0] === ':') continue;
                        const c = line.indexOf(':');
                        const field = c < 0 ? line : line.slice(0, c);
                        let val = c < 0 ? '' : line.slice(c + 1);
                        if (val[0] === ' ') val = val.slice(1);
                        if (field === 'event') ev.type = val;
                        else if (field === 'data') ev.data.push(val);
                        else if (field === 'id' && !val.includes('\0')) lastId = val;
                        else if (field === 'retry' && /^\d+$/.test(val)) retry = +val;
                    }
                }
            } catch (e) {
                if (stopped) break;
            }
            if (connected) {
                connected = false;
                setLive(0, -1);
            }
            if (stopped) break;
            await new Promise((r) => setTimeout(r, retry));
            retry = Math.min(retry * 2, 15000);
        }
    };
    setLive(1, 0);
    run();
    return {
        close() {
            if (stopped) return;
            stopped = true;
            if (ctrl) ctrl.abort();
            if (connected) {
                connected = false;
                setLive(0, -1);
            }
            setLive(-1, 0);
        },
    };
}

/* The run an event is about, whatever shape its payload has. */
export function eventRun(ev) {
    const d = ev.data;
    if (!d || typeof d !== 'object') return null;
    for (const k of ['run_id', 'run']) {
        const v = d[k];
        if (typeof v === 'number') return v;
        if (typeof v === 'string' && /^\d+$/.test(v)) return +v;
        if (v && typeof v === 'object' && typeof v.id === 'number') return v.id;
    }
    if (typeof d.id === 'number' && typeof d.status === 'string') return d.id;
    return null;
}

/* Runs f at most once per wait ms, trailing, per key: a burst of events about one
 * thing becomes one request. */
export function debouncer(wait) {
    const timers = new Map();
    const fn = (key, f) => {
        if (timers.has(key)) return;
        timers.set(key, setTimeout(() => {
            timers.delete(key);
            f();
        }, wait));
    };
    fn.cancel = () => {
        for (const t of timers.values()) clearTimeout(t);
        timers.clear();
    };
    return fn;
}
