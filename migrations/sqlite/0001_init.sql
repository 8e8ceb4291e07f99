-- 0001_init: runs, metrics, samples, checkpoints and events (docs/architecture.md: the store).
-- Times are RFC 3339 UTC strings; ids are integers that are never reused.

CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'paused', 'succeeded', 'failed', 'canceled')),
    spec TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT NOT NULL DEFAULT '',
    finished_at TEXT NOT NULL DEFAULT '',
    error TEXT
);
CREATE INDEX runs_status ON runs (status, id);

-- kind 0: training metric, kind 1: evaluation figure
CREATE TABLE metrics (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind INTEGER NOT NULL,
    name TEXT NOT NULL,
    step INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (run, kind, name, step)
) WITHOUT ROWID;

CREATE TABLE samples (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    png BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (run, step)
);

CREATE TABLE checkpoints (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (run, step)
);

-- The ids of the event streams (SSE id:); the payload is rebuilt from the other tables.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    step INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX events_run ON events (run, id);
