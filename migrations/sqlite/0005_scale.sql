-- 0005_scale: reads that cost the same whatever the history, and the columns of claims
-- (docs/architecture.md: the store).
--
-- Metric points are keyed by (run, name, step), the order every read asks for them in;
-- the newest value of each name is kept in metrics_latest, written in the same
-- transaction as its point. A run carries its worker (who trains it), its claim (raised
-- by every claim; the owner's writes are fenced by it) and a pause or cancel the user
-- asked for while it ran. Events are pruned per run and type, which needs an index.

CREATE TABLE metrics_by_name (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    step INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (run, name, step)
) WITHOUT ROWID;
INSERT OR IGNORE INTO metrics_by_name (run, name, step, kind, value)
    SELECT run, name, step, kind, value FROM metrics;
DROP TABLE metrics;
ALTER TABLE metrics_by_name RENAME TO metrics;

-- kind 0: training metric, kind 1: evaluation figure
CREATE TABLE metrics_latest (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    step INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (run, name)
) WITHOUT ROWID;
-- SQLite takes the bare columns from the row that holds max(step)
INSERT INTO metrics_latest (run, name, kind, step, value)
    SELECT run, name, kind, max(step), value FROM metrics GROUP BY run, name;

ALTER TABLE runs ADD COLUMN worker TEXT;
ALTER TABLE runs ADD COLUMN claim INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN requested TEXT CHECK (requested IN ('pause', 'cancel'));

CREATE INDEX events_run_type ON events (run, type, id);

-- The daemons that train this store's runs (one for SQLite: its daemon, and a
-- `ganctld train` while it runs). Times are Unix seconds.
CREATE TABLE workers (
    name TEXT PRIMARY KEY,
    heartbeat INTEGER NOT NULL,
    started INTEGER NOT NULL,
    workers INTEGER NOT NULL,
    threads INTEGER NOT NULL,
    lease_s INTEGER NOT NULL
);
