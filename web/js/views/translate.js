/* views/translate.js — the run page's panel of an image-to-image run (a spec with a
 * task): a user drops or picks a picture, the panel makes it what the run takes and
 * shows it next to what POST /api/v1/runs/ID/translate makes of it.
 *
 * What the run takes (docs/api.md, translate): the run's image size, or that size over
 * the factor for super-resolution (a bigger picture is scaled down to it here, and the
 * panel says so); for inpainting the hole as the alpha channel: an opaque picture gets
 * the centre square of half the side cut out, as training's centre mask does. Any
 * picture the browser decodes (PNG, JPEG, ...) is sent as a PNG drawn on a canvas. */
import { API, apiBlob } from '../api.js';
import { h } from '../dom.js';

/* The run's image side from its normalized spec (Fashion-MNIST is 28x28). */
function sideOf(spec) {
    const d = spec.dataset || {};
    return d.name === 'png-dir' ? d.image_size : 28;
}

/* What the run takes: [width, height] and a sentence saying what to send. */
export function translateInput(spec) {
    const t = spec.task, side = sideOf(spec);
    switch (t.kind) {
    case 'super-resolution':
        return [side / t.factor, side / t.factor,
            `a small image, ${side / t.factor}×${side / t.factor} (it comes back ${side}×${side}, ×${t.factor})`];
    case 'inpainting':
        return [side, side, `a ${side}×${side} image with its hole transparent (an opaque one loses its centre)`];
    case 'edges':
        return [side, side, `an edge map, ${side}×${side}: black lines on white`];
    case 'colorize':
        return [side, side, `a gray image, ${side}×${side}`];
    default:
        return [side, side, `an input image, ${side}×${side}`];
    }
}

/* The picture drawn at w×h (inpainting: with the centre cut out when it has no
 * transparent pixel), as a PNG blob; and whether it had to be scaled. */
async function prepare(file, w, h2, hole) {
    const bmp = await createImageBitmap(file);
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h2;
    const g = canvas.getContext('2d');
    g.drawImage(bmp, 0, 0, w, h2);
    const scaled = bmp.width !== w || bmp.height !== h2;
    let cut = false;
    if (hole) {
        const px = g.getImageData(0, 0, w, h2).data;
        let transparent = false;
        for (let i = 3; i < px.length && !transparent; i += 4) transparent = px[i] < 128;
        if (!transparent) {
            g.clearRect(w / 4, h2 / 4, w / 2, h2 / 2);
            cut = true;
        }
    }
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    return { blob, scaled, cut, from: [bmp.width, bmp.height] };
}

function showBlob(img, blob) {
    if (img.dataset.objectUrl) URL.revokeObjectURL(img.dataset.objectUrl);
    const url = URL.createObjectURL(blob);
    img.dataset.objectUrl = url;
    img.src = url;
    img.hidden = false;
}

/* The panel for run id with its normalized spec. */
export function translatePanel(id, spec) {
    const [w, hgt, what] = translateInput(spec);
    const inImg = h('img', { alt: 'the picture sent', hidden: true, 'data-role': 'translate-input' });
    const outImg = h('img', { alt: 'what the generator made of it', hidden: true,
        'data-role': 'translated' });
    const msg = h('div', { class: 'muted', 'data-role': 'translate-message' },
        `Drop a picture here or choose one: ${what}.`);
    const file = h('input', { type: 'file', accept: 'image/*', 'aria-label': 'picture to translate' });

    const run = async (f) => {
        if (!f) return;
        msg.textContent = 'Translating…';
        outImg.hidden = true;
        const t0 = performance.now();
        try {
            let p;
            try {
                p = await prepare(f, w, hgt, spec.task.kind === 'inpainting');
            } catch (e) {
                throw new Error(`${f.name || 'the file'} is not a picture the browser can read`);
            }
            showBlob(inImg, p.blob);
            const out = await apiBlob(`${API}/runs/${id}/translate`, { method: 'POST', body: p.blob });
            showBlob(outImg, out);
            const notes = [];
            if (p.scaled) notes.push(`scaled from ${p.from[0]}×${p.from[1]} to ${w}×${hgt}`);
            if (p.cut) notes.push('the centre cut out as the hole');
            msg.textContent = `${f.name || 'picture'}${notes.length ? ` (${notes.join('; ')})` : ''}` +
                ` in ${Math.round(performance.now() - t0)} ms`;
        } catch (e) {
            msg.textContent = e.message;
        }
    };
    file.addEventListener('change', () => run(file.files[0]));
    const zone = h('div', { class: 'drop', 'data-role': 'drop' },
        h('div', { class: 'pair' }, h('figure', {}, inImg, h('figcaption', {}, 'in')),
            h('figure', {}, outImg, h('figcaption', {}, 'out'))), msg, file);
    zone.addEventListener('dragover', (e) => {
        e.preventDefault();
        zone.classList.add('over');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
        e.preventDefault();
        zone.classList.remove('over');
        run(e.dataTransfer.files[0]);
    });
    return h('section', { class: 'panel translate' }, h('h2', {}, 'Translate'), zone);
}
