-- Pages and the outbox of their attempts (package pager). A page is kept
-- whole, as the JSON of pager.Page, in state (TEXT, so that it reads back
-- byte for byte); status, priority, ticket_id and due_at are copies of it
-- for the indexes and lists, rewritten with it in every transaction.
-- Times are unix microseconds (UTC). Keep constraint names in step with
-- the PostgreSQL schema. page_requests stays: the upgrade step reads it.

CREATE TABLE pages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT    NOT NULL, -- the request's idempotency key
    status     TEXT    NOT NULL,
    priority   TEXT    NOT NULL,
    ticket_id  TEXT    NOT NULL DEFAULT '',
    due_at     INTEGER,          -- NULL when the page is closed or has no timer
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    CONSTRAINT pages_key_key UNIQUE (key)
) STRICT;

-- The timers: open pages by due time (DuePages, NextDue). Closed pages
-- never enter it.
CREATE INDEX pages_due ON pages (due_at) WHERE status = 'open' AND due_at IS NOT NULL;

-- The admins' lists of pages in one status, newest first.
CREATE INDEX pages_by_status ON pages (status, id);

-- The outbox: one row per request to the outside world, written intended
-- in the transaction of the page change that wants it, then claimed under
-- a lease (claimed_by, lease_until by the database's clock) and never
-- under a row lock held across the provider's request.
CREATE TABLE page_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id     INTEGER NOT NULL REFERENCES pages (id),
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
    CONSTRAINT page_attempts_page_key UNIQUE (page_id, key)
) STRICT;

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
