// openapi_check.mjs — the npm half of tests/integration/test_openapi.py (not a test itself).
//
//   node openapi_check.mjs validate DOC.json < checks.json
//       Validates values against the document's schemas with ajv (JSON Schema 2020-12,
//       the dialect of OpenAPI 3.1) and prints one result per check as JSON. A check is
//       {what, value, schema: "#/components/schemas/Run"} or
//       {what, value, path: "/api/v1/runs/{id}", method: "get", status: 200,
//        type: "application/json"}: the latter is the response the operation documents
//       for that status and media type, and a status it does not document is an error.
//
//   node openapi_check.mjs client GENERATED.js BASE_URL
//       Drives a real daemon through a client generated from the document by
//       swagger-typescript-api, calling the generated methods by their operationIds:
//       createRun, listRuns, getRun, getRunMetrics, cancelRun. Prints what they
//       returned as JSON (the test checks it); any failure exits non-zero.
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const addFormats = addFormatsModule.default ?? addFormatsModule;

function readStdin() {
    return fs.readFileSync(0, 'utf8');
}

// "#/a/b~1c" -> the node it points at in doc, following $ref of the nodes on the way
function pointer(doc, ref) {
    let node = doc;
    for (const raw of ref.replace(/^#\//, '').split('/')) {
        const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
        if (node && typeof node === 'object' && node.$ref) node = pointer(doc, node.$ref);
        if (!node || typeof node !== 'object' || !(key in node)) return undefined;
        node = node[key];
    }
    return node;
}

const esc = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

// The JSON pointer of the schema an operation documents for a status and media type.
function responseSchemaRef(doc, check) {
    const op = `#/paths/${esc(check.path)}/${check.method}`;
    if (!pointer(doc, op)) return { error: `the document has no ${check.method} ${check.path}` };
    const responses = pointer(doc, `${op}/responses`);
    const status = String(check.status);
    if (!responses || !(status in responses))
        return { error: `${check.method} ${check.path} does not document status ${status}` };
    let resp = responses[status];
    let base = `${op}/responses/${status}`;
    if (resp.$ref) {
        base = resp.$ref;
        resp = pointer(doc, resp.$ref);
    }
    if (!check.type) // no body (204)
        return resp.content ? { error: `${check.method} ${check.path} ${status} has a body` } : {};
    // the most specific media range that covers the type: image/png, image/*, */*
    const range = [check.type, check.type.replace(/\/.*/, '/*'), '*/*'].find(
        (t) => resp.content && t in resp.content,
    );
    if (!range) return { error: `${check.method} ${check.path} ${status} documents no ${check.type}` };
    return { ref: `${base}/content/${esc(range)}/schema` };
}

function validate(docPath) {
    const doc = JSON.parse(fs.readFileSync(docPath, 'utf8'));
    // strict, but "required" may name properties that an allOf branch defines (the
    // linter's no-required-schema-properties-undefined checks those, allOf included)
    const ajv = new Ajv2020({
        allErrors: true,
        strict: true,
        strictRequired: false,
        allowUnionTypes: true,
    });
    addFormats(ajv);
    // the document is the root the schemas' "#/components/..." references resolve in;
    // its own top-level fields are no schema keywords, so ajv is told to pass over them
    for (const key of Object.keys(doc)) ajv.addKeyword({ keyword: key });
    ajv.addSchema(doc, 'openapi.json');
    const checks = JSON.parse(readStdin());
    const results = checks.map((check) => {
        let ref = check.schema;
        if (!ref) {
            const found = responseSchemaRef(doc, check);
            if (found.error) return { what: check.what, errors: [found.error] };
            if (!found.ref) return { what: check.what, errors: null };
            ref = found.ref;
        }
        let fn;
        try {
            fn = ajv.getSchema(`openapi.json${ref}`);
        } catch (e) {
            return { what: check.what, errors: [`${ref}: ${e.message}`] };
        }
        if (!fn) return { what: check.what, errors: [`${ref}: no such schema`] };
        if (fn(check.value)) return { what: check.what, errors: null };
        return {
            what: check.what,
            errors: fn.errors.map((e) => `${e.instancePath || '(root)'} ${e.message}`),
        };
    });
    process.stdout.write(JSON.stringify(results) + '\n');
}

async function client(generated, baseUrl) {
    const { Api } = await import(pathToFileURL(generated).href);
    const api = new Api({ baseUrl });
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const out = {};

    const tiny = {
        name: 'generated-client',
        dataset: { name: 'ring8' },
        model: { hidden: 16 },
        train: { steps: 40, batch_size: 16 },
        every: { log: 10, sample: 20, checkpoint: 20, eval: 40 },
    };
    const created = await api.runs.createRun(tiny);
    out.created = { status: created.status, location: created.headers.get('location'), run: created.data };
    const id = created.data.id;

    // the run object of a run once it has finished
    const finished = async (runId) => {
        for (let i = 0; i < 1200; i++) {
            const run = (await api.runs.getRun(runId)).data;
            if (['succeeded', 'failed', 'canceled'].includes(run.status)) return run;
            await sleep(50);
        }
        throw new Error(`run ${runId} did not finish`);
    };
    out.got = await finished(id);
    out.listed = (await api.runs.listRuns({ limit: 5 })).data;
    out.metrics = (await api.runs.getRunMetrics(id, { name: ['loss_d', 'loss_g'], max_points: 3 })).data;

    // a run long enough to be canceled while it is queued or training
    const long = { ...tiny, name: 'generated-client-long', train: { steps: 2000000, batch_size: 16 } };
    const second = (await api.runs.createRun(long)).data;
    out.canceled = (await api.runs.cancelRun(second.id)).data; // within a step: may still run
    out.canceled_later = await finished(second.id);

    // an error comes back as the documented problem (the client throws the response)
    try {
        await api.runs.getRun(999999999);
        out.missing = null;
    } catch (resp) {
        out.missing = { status: resp.status, problem: resp.error };
    }
    process.stdout.write(JSON.stringify(out) + '\n');
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'validate') {
    validate(args[0]);
} else if (cmd === 'client') {
    await client(args[0], args[1]);
} else {
    process.stderr.write('usage: openapi_check.mjs validate DOC | client GENERATED.js BASE_URL\n');
    process.exit(2);
}
