-- 0002_sweeps_watch_provenance: sweeps and the runs they made, the watchdog's records,
-- how each run was made, and the plane of 2D samples (docs/architecture.md: the store).

-- A sweep: its definition as sent (the JSON body, for GET /api/v1/sweeps/{id}), and
-- what the scheduler needs without parsing it: the objective and early stopping.
CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    metric TEXT NOT NULL,
    goal TEXT NOT NULL CHECK (goal IN ('min', 'max')),
    early_stopping INTEGER NOT NULL DEFAULT 0,
    configurations INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

-- The sweep a run belongs to (NULL outside one) and its configuration's index in it.
ALTER TABLE runs ADD COLUMN sweep INTEGER REFERENCES sweeps (id) ON DELETE SET NULL;
ALTER TABLE runs ADD COLUMN config INTEGER NOT NULL DEFAULT -1;
CREATE INDEX runs_sweep ON runs (sweep, id);

-- How the run was trained, written when a worker starts it (NULL until then).
ALTER TABLE runs ADD COLUMN provenance_version TEXT;
ALTER TABLE runs ADD COLUMN provenance_commit TEXT;
ALTER TABLE runs ADD COLUMN provenance_compiler TEXT;
ALTER TABLE runs ADD COLUMN provenance_blas TEXT;
ALTER TABLE runs ADD COLUMN provenance_threads INTEGER;
ALTER TABLE runs ADD COLUMN spec_hash TEXT;

-- What the watchdog detected and what was done about it: action 'alert' (told only)
-- or 'rollback' (back to the checkpoint of to_step with the learning rates scaled by
-- lr_scale and a fresh noise seed).
CREATE TABLE watch_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    kind TEXT NOT NULL,
    action TEXT NOT NULL,
    to_step INTEGER,
    lr_scale REAL,
    message TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX watch_records_run ON watch_records (run, id);

-- 2D runs: G's density and D's output over the plane at the sample's step
-- (core/gan_plane.h bytes); NULL for image sets.
ALTER TABLE samples ADD COLUMN plane BLOB;
