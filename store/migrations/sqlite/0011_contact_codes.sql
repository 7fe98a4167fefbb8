-- Numbers engineers add for themselves are confirmed with a code (package
-- verify) before pages go there. Every number stored so far was entered
-- as numbers were trusted until now, so each becomes verified. A code is
-- kept as its keyed hash only, with how it was sent, its tries and how it
-- closed; its message leaves through the pages' outbox as an attempt
-- owned by the code (code_id) instead of a page or a call, so that it is
-- sent off the request path, survives a crash, and a call that reads it
-- keeps to the one voice call in flight per number. SQLite cannot change
-- a CHECK, so page_attempts is made anew and its rows copied (nothing
-- references it). Keep constraint names in step with the PostgreSQL
-- schema.

UPDATE engineers SET contacts = (
    SELECT json_group_array(json(c.v)) FROM (
        SELECT json_set(j.value, '$.verified', json('true')) AS v
        FROM json_each(engineers.contacts) AS j ORDER BY j.key
    ) AS c
) WHERE json_array_length(contacts) > 0;

CREATE TABLE contact_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    engineer_id INTEGER NOT NULL REFERENCES engineers (id),
    phone       TEXT    NOT NULL, -- E.164
    hash        TEXT    NOT NULL, -- hex HMAC-SHA256: never the code
    kind        TEXT    NOT NULL, -- sms or voice
    tries       INTEGER NOT NULL DEFAULT 0, -- wrong codes given
    sent_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    closed_at   INTEGER,                    -- NULL while the code is open
    outcome     TEXT    NOT NULL DEFAULT '' -- confirmed, voided, replaced
) STRICT;

-- The open code of an engineer's number (OpenCode), and the codes a
-- number, or an engineer's numbers, were sent lately (the resend limits).
CREATE INDEX contact_codes_open ON contact_codes (engineer_id, phone) WHERE closed_at IS NULL;
CREATE INDEX contact_codes_by_phone ON contact_codes (phone, sent_at);
CREATE INDEX contact_codes_by_engineer ON contact_codes (engineer_id, sent_at);

CREATE TABLE page_attempts_0011 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id     INTEGER REFERENCES pages (id), -- NULL for an engineer leg or a code
    key         TEXT    NOT NULL, -- unique within the page: a replayed event adds nothing twice
    kind        TEXT    NOT NULL, -- voice, sms, note
    purpose     TEXT    NOT NULL,
    rung        INTEGER NOT NULL,
    engineer_id INTEGER NOT NULL DEFAULT 0, -- 0: none; not a reference, engineers are deleted softly
    to_number   TEXT    NOT NULL,           -- E.164, or the ticket id of a note
    language    TEXT    NOT NULL DEFAULT '',
    body        TEXT    NOT NULL DEFAULT '', -- a code's is sealed
    status      TEXT    NOT NULL,           -- intended, sending, sent, in-doubt, done
    provider_id TEXT,                       -- NULL until the provider has answered
    outcome     TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT '',
    tries       INTEGER NOT NULL DEFAULT 0,
    not_before  INTEGER NOT NULL DEFAULT 0, -- 0: at once
    claimed_by  TEXT    NOT NULL DEFAULT '', -- the owner of the current or last claim
    claimed_at  INTEGER,                     -- the database's clock at that claim
    lease_until INTEGER,                     -- NULL: not leased
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    call_id     TEXT,                        -- a leg's call (the caller's CallSid); NULL for a page's attempt
    from_number TEXT    NOT NULL DEFAULT '', -- a leg's caller id: the line's number
    ring_ms     INTEGER NOT NULL DEFAULT 0,  -- how long a leg rings
    code_id     INTEGER REFERENCES contact_codes (id), -- a code's attempt
    CONSTRAINT page_attempts_page_key UNIQUE (page_id, key),
    CONSTRAINT page_attempts_call_key UNIQUE (call_id, key),
    CONSTRAINT page_attempts_code_key UNIQUE (code_id, key),
    CONSTRAINT page_attempts_owner CHECK ((page_id IS NOT NULL) + (call_id IS NOT NULL) + (code_id IS NOT NULL) = 1)
) STRICT;

INSERT INTO page_attempts_0011 (id, page_id, key, kind, purpose, rung, engineer_id, to_number, language, body, status, provider_id, outcome, detail, tries, not_before, claimed_by, claimed_at, lease_until, created_at, updated_at, call_id, from_number, ring_ms)
    SELECT id, page_id, key, kind, purpose, rung, engineer_id, to_number, language, body, status, provider_id, outcome, detail, tries, not_before, claimed_by, claimed_at, lease_until, created_at, updated_at, call_id, from_number, ring_ms FROM page_attempts;
-- The new table goes on counting ids where the old one stopped, so that
-- an id in a callback URL never names two attempts, even when the latest
-- rows were deleted.
DELETE FROM sqlite_sequence WHERE name = 'page_attempts_0011';
INSERT INTO sqlite_sequence (name, seq) SELECT 'page_attempts_0011', seq FROM sqlite_sequence WHERE name = 'page_attempts';
DROP TABLE page_attempts;
ALTER TABLE page_attempts_0011 RENAME TO page_attempts;
-- The indexes of 0004 and 0007, as they were.
CREATE UNIQUE INDEX page_attempts_provider_id ON page_attempts (provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX page_attempts_intended ON page_attempts (id) WHERE status = 'intended';
CREATE INDEX page_attempts_leased ON page_attempts (lease_until) WHERE status IN ('sending', 'in-doubt');
CREATE INDEX page_attempts_sent ON page_attempts (updated_at) WHERE status = 'sent';
CREATE UNIQUE INDEX page_attempts_voice_in_flight ON page_attempts (to_number)
    WHERE kind = 'voice' AND status IN ('sending', 'sent', 'in-doubt');
CREATE INDEX page_attempts_legs_waiting ON page_attempts (created_at) WHERE status = 'intended' AND call_id IS NOT NULL;
