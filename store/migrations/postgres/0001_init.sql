-- The first schema. Times are unix microseconds (UTC) in BIGINT; list-valued
-- fields are JSON text (TEXT, so that a value reads back byte for byte).
-- Constraint names are the ones store/errors.go maps to error codes: keep
-- them in step with the SQLite schema.

CREATE TABLE engineers (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT    NOT NULL,
    level      INTEGER NOT NULL,
    languages  TEXT    NOT NULL, -- JSON array of language codes
    time_zone  TEXT    NOT NULL,
    contacts   TEXT    NOT NULL, -- JSON array of {phone, sms}
    created_at BIGINT  NOT NULL,
    deleted_at BIGINT            -- NULL while the engineer is listed
);

CREATE TABLE rotations (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at BIGINT NOT NULL,
    ended_at   BIGINT            -- NULL while the rotation runs
);

CREATE TABLE rotation_versions (
    rotation_id    BIGINT  NOT NULL REFERENCES rotations (id),
    version        INTEGER NOT NULL,
    effective_from BIGINT  NOT NULL,
    spec           TEXT    NOT NULL, -- JSON: the rotation but id, version and effective_*
    CONSTRAINT rotation_versions_pkey PRIMARY KEY (rotation_id, version)
);

-- Two overrides of one level and layer never overlap. Level and layer are
-- compared as one-point ranges so that the constraint needs no extension
-- (btree_gist would be needed for "level WITH =").
CREATE TABLE overrides (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    level       INTEGER NOT NULL,
    layer       INTEGER NOT NULL,
    engineer_id BIGINT  NOT NULL CONSTRAINT overrides_engineer_id_fkey REFERENCES engineers (id),
    start_at    BIGINT  NOT NULL,
    end_at      BIGINT  NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    CONSTRAINT overrides_end_after_start CHECK (end_at > start_at),
    CONSTRAINT overrides_no_overlap EXCLUDE USING gist (
        int4range(level, level, '[]') WITH &&,
        int4range(layer, layer, '[]') WITH &&,
        int8range(start_at, end_at) WITH &&
    )
);

CREATE INDEX overrides_by_end ON overrides (end_at);
CREATE INDEX overrides_by_engineer ON overrides (engineer_id, end_at);

CREATE TABLE policies (
    priority   TEXT   PRIMARY KEY,
    steps      TEXT   NOT NULL, -- JSON array of steps
    updated_at BIGINT NOT NULL
);

CREATE TABLE tokens (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT   NOT NULL,
    role        TEXT   NOT NULL,
    engineer_id BIGINT CONSTRAINT tokens_engineer_id_fkey REFERENCES engineers (id),
    hash        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    CONSTRAINT tokens_hash_key UNIQUE (hash)
);

CREATE TABLE audit (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    entity      TEXT   NOT NULL,
    entity_id   TEXT   NOT NULL,
    before_json TEXT,
    after_json  TEXT
);

CREATE INDEX audit_by_entity ON audit (entity, entity_id, id);
