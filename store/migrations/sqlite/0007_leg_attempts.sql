-- Engineer legs of live calls join the pages' outbox (package pager,
-- legs.go): a leg is a voice attempt that belongs to a call (call_id, the
-- caller's CallSid; key is the leg id) instead of a page, so that the one
-- unique index page_attempts_voice_in_flight keeps one voice call in
-- flight per number for page calls and legs together. SQLite cannot drop
-- a NOT NULL, so the table is made anew and its rows copied (nothing
-- references it). Keep constraint names in step with the PostgreSQL
-- schema.

CREATE TABLE page_attempts_0007 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id     INTEGER REFERENCES pages (id), -- NULL for an engineer leg
    key         TEXT    NOT NULL, -- unique within the page: a replayed event adds nothing twice
    kind        TEXT    NOT NULL, -- voice, sms, note
    purpose     TEXT    NOT NULL,
    rung        INTEGER NOT NULL,
    engineer_id INTEGER NOT NULL DEFAULT 0, -- 0: none; not a reference, engineers are deleted softly
    to_number   TEXT    NOT NULL,           -- E.164, or the ticket id of a note
    language    TEXT    NOT NULL DEFAULT '',
    body        TEXT    NOT NULL DEFAULT '',
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
    CONSTRAINT page_attempts_page_key UNIQUE (page_id, key),
    CONSTRAINT page_attempts_call_key UNIQUE (call_id, key),
    CONSTRAINT page_attempts_owner CHECK ((page_id IS NULL) <> (call_id IS NULL))
) STRICT;

INSERT INTO page_attempts_0007 (id, page_id, key, kind, purpose, rung, engineer_id, to_number, language, body, status, provider_id, outcome, detail, tries, not_before, claimed_by, claimed_at, lease_until, created_at, updated_at)
    SELECT id, page_id, key, kind, purpose, rung, engineer_id, to_number, language, body, status, provider_id, outcome, detail, tries, not_before, claimed_by, claimed_at, lease_until, created_at, updated_at FROM page_attempts;
DROP TABLE page_attempts;
ALTER TABLE page_attempts_0007 RENAME TO page_attempts;
-- Status callbacks find their attempt by the provider's id (CA…, SM…).
CREATE UNIQUE INDEX page_attempts_provider_id ON page_attempts (provider_id) WHERE provider_id IS NOT NULL;

-- What there is to claim, oldest first; small, as attempts leave it fast.
CREATE INDEX page_attempts_intended ON page_attempts (id) WHERE status = 'intended';

-- Leases that may run out (ClaimInDoubt).
CREATE INDEX page_attempts_leased ON page_attempts (lease_until) WHERE status IN ('sending', 'in-doubt');

-- Sent attempts whose outcome callback may be late (StaleAttempts).
CREATE INDEX page_attempts_sent ON page_attempts (updated_at) WHERE status = 'sent';

-- At most one page call in flight per phone number: a second call would
-- ring through the first or land in its voicemail. The claim query keeps
-- to it; this index is the guarantee when claimers race.
CREATE UNIQUE INDEX page_attempts_voice_in_flight ON page_attempts (to_number)
    WHERE kind = 'voice' AND status IN ('sending', 'sent', 'in-doubt');

-- Legs still waiting to be placed, oldest first (WaitingLegs).
CREATE INDEX page_attempts_legs_waiting ON page_attempts (created_at) WHERE status = 'intended' AND call_id IS NOT NULL;
