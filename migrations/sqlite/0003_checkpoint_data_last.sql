-- 0003_checkpoint_data_last: a checkpoint's bytes become the last column. The store
-- inserts a checkpoint as zeroblob(n) and writes the bytes through a blob handle a
-- chunk at a time; SQLite keeps a zeroblob out of the record it builds only when it is
-- the record's last field, and otherwise holds all n zero bytes in memory at once
-- (11 MB for the reference DCGAN, a tenth of ganctld train's peak).
CREATE TABLE checkpoints_new (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (run, step)
);
INSERT INTO checkpoints_new (run, step, bytes, sha256, created_at, data)
    SELECT run, step, bytes, sha256, created_at, data FROM checkpoints;
DROP TABLE checkpoints;
ALTER TABLE checkpoints_new RENAME TO checkpoints;
