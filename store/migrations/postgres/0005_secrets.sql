-- The service's own secrets, generated once and shared by every instance
-- (the link key that signs acknowledgement links, when IVR_LINK_KEY is not
-- set): name → random bytes. Durable: a lost key voids every link already
-- sent. Never shown through the API. Keep in step with the SQLite schema.
CREATE TABLE secrets (
    name       TEXT   PRIMARY KEY,
    value      BYTEA  NOT NULL,
    created_at BIGINT NOT NULL
);
