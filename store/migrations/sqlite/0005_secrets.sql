-- The service's own secrets, generated once and shared by every process
-- on the store (the link key that signs acknowledgement links, when
-- IVR_LINK_KEY is not set): name → random bytes. Durable: a lost key
-- voids every link already sent. Never shown through the API.
CREATE TABLE secrets (
    name       TEXT    PRIMARY KEY,
    value      BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
