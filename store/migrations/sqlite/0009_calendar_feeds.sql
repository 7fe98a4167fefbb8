-- Calendar subscriptions (package calendar): a feed of one engineer's shifts
-- or of one level's, reached with a secret token of which only the SHA-256
-- hash is kept. Revoked feeds stay (revoked_at set) so that the audit log
-- and the list can name them. Durable, like tokens.
CREATE TABLE calendar_feeds (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    engineer_id INTEGER REFERENCES engineers (id),
    level       INTEGER,
    hash        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    CONSTRAINT calendar_feeds_hash_key UNIQUE (hash),
    CONSTRAINT calendar_feeds_kind CHECK (
        (kind = 'engineer' AND engineer_id IS NOT NULL AND level IS NULL) OR
        (kind = 'level' AND engineer_id IS NULL AND level IS NOT NULL))
) STRICT;
