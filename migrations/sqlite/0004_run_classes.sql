-- 0004_run_classes: the classes a conditional run trains with, written when it starts
-- (core/data.h's text form: one "LABEL NAME" line per class); NULL for other runs.
ALTER TABLE runs ADD COLUMN classes TEXT;
