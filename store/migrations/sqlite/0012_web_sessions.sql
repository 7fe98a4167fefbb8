-- Sessions of the web page (package web): a signed-in browser's cookie
-- carries a secret of which only the SHA-256 hash is kept, tied to the API
-- token it was exchanged for (by that token's hash, so a revoked token ends
-- its sessions at once), with the secret the page's forms carry against
-- cross-site requests. Kept in the store so that any instance serves a
-- session; expired rows are deleted as new sessions start. Durable, like
-- tokens (a lost row only signs a browser out).
CREATE TABLE web_sessions (
    hash       TEXT    PRIMARY KEY,
    token_hash TEXT    NOT NULL,
    csrf       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);
