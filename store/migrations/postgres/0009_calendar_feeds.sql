-- Calendar subscriptions (package calendar): a feed of one engineer's shifts
-- or of one level's, reached with a secret token of which only the SHA-256
-- hash is kept. Revoked feeds stay (revoked_at set) so that the audit log
-- and the list can name them. Durable, like tokens. Keep in step with the
-- SQLite schema.
CREATE TABLE calendar_feeds (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT   NOT NULL,
    engineer_id BIGINT CONSTRAINT calendar_feeds_engineer_id_fkey REFERENCES engineers (id),
    level       INTEGER,
    hash        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    CONSTRAINT calendar_feeds_hash_key UNIQUE (hash),
    CONSTRAINT calendar_feeds_kind CHECK (
        (kind = 'engineer' AND engineer_id IS NOT NULL AND level IS NULL) OR
        (kind = 'level' AND engineer_id IS NULL AND level IS NOT NULL))
);
