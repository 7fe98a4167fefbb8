-- The first schema. Times are unix microseconds (UTC); list-valued fields
-- are JSON text. Constraint and trigger names are the ones store/errors.go
-- maps to error codes: keep them in step with the PostgreSQL schema.
-- AUTOINCREMENT keeps ids from being reused after a delete, so that the
-- audit log never names two things with one id.

CREATE TABLE engineers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    level      INTEGER NOT NULL,
    languages  TEXT    NOT NULL, -- JSON array of language codes
    time_zone  TEXT    NOT NULL,
    contacts   TEXT    NOT NULL, -- JSON array of {phone, sms}
    created_at INTEGER NOT NULL,
    deleted_at INTEGER           -- NULL while the engineer is listed
) STRICT;

CREATE TABLE rotations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    ended_at   INTEGER           -- NULL while the rotation runs
) STRICT;

CREATE TABLE rotation_versions (
    rotation_id    INTEGER NOT NULL REFERENCES rotations (id),
    version        INTEGER NOT NULL,
    effective_from INTEGER NOT NULL,
    spec           TEXT    NOT NULL, -- JSON: the rotation but id, version and effective_*
    PRIMARY KEY (rotation_id, version)
) STRICT;

CREATE TABLE overrides (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    level       INTEGER NOT NULL,
    layer       INTEGER NOT NULL,
    engineer_id INTEGER NOT NULL REFERENCES engineers (id),
    start_at    INTEGER NOT NULL,
    end_at      INTEGER NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    CONSTRAINT overrides_end_after_start CHECK (end_at > start_at)
) STRICT;

CREATE INDEX overrides_by_slot ON overrides (level, layer, start_at);
CREATE INDEX overrides_by_end ON overrides (end_at);
CREATE INDEX overrides_by_engineer ON overrides (engineer_id, end_at);

-- The store checks for overlaps itself (to name the override in the way);
-- these triggers are the schema's own guarantee, as the exclusion
-- constraint is in PostgreSQL.
CREATE TRIGGER overrides_no_overlap_insert BEFORE INSERT ON overrides
WHEN EXISTS (
    SELECT 1 FROM overrides o
    WHERE o.level = NEW.level AND o.layer = NEW.layer
      AND o.start_at < NEW.end_at AND o.end_at > NEW.start_at
)
BEGIN
    SELECT RAISE(ABORT, 'overrides_no_overlap');
END;

CREATE TRIGGER overrides_no_overlap_update BEFORE UPDATE OF level, layer, start_at, end_at ON overrides
WHEN EXISTS (
    SELECT 1 FROM overrides o
    WHERE o.id <> NEW.id AND o.level = NEW.level AND o.layer = NEW.layer
      AND o.start_at < NEW.end_at AND o.end_at > NEW.start_at
)
BEGIN
    SELECT RAISE(ABORT, 'overrides_no_overlap');
END;

CREATE TABLE policies (
    priority   TEXT    PRIMARY KEY,
    steps      TEXT    NOT NULL, -- JSON array of steps
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    engineer_id INTEGER REFERENCES engineers (id),
    hash        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    CONSTRAINT tokens_hash_key UNIQUE (hash)
) STRICT;

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    entity      TEXT    NOT NULL,
    entity_id   TEXT    NOT NULL,
    before_json TEXT,
    after_json  TEXT
) STRICT;

CREATE INDEX audit_by_entity ON audit (entity, entity_id, id);
