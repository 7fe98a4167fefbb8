-- How far each watcher of an outside system has read (the RT watcher:
-- "rt", the LastUpdated time it has looked at up to). Written after the
-- events up to it were delivered, so that a restart reads on from there
-- (with an overlap) and misses nothing; events seen twice de-duplicate on
-- their page key. Only ever moves forward. Keep in step with the SQLite
-- schema.
CREATE TABLE watch_cursors (
    name       TEXT   PRIMARY KEY,
    at         BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
