-- What the phone line keeps: the built-in tickets and their notes, the
-- call log, requested pages, callers' languages, the state of calls in
-- progress (for stateless webhook drivers) and voicemail recordings.
-- Times are unix microseconds (UTC). Keep constraint names in step with
-- the PostgreSQL schema.

CREATE TABLE tickets (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    subject      TEXT    NOT NULL,
    priority     TEXT    NOT NULL,
    level        INTEGER NOT NULL,
    caller_phone TEXT    NOT NULL DEFAULT '', -- E.164 or ''
    language     TEXT    NOT NULL DEFAULT '',
    line         TEXT    NOT NULL DEFAULT '', -- E.164 or ''
    created_at   INTEGER NOT NULL
) STRICT;

-- Ticket ids start at 1001 (tickets.FirstID): AUTOINCREMENT continues from
-- the sequence's value.
INSERT INTO sqlite_sequence (name, seq) VALUES ('tickets', 1000);

CREATE TABLE ticket_notes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    at        INTEGER NOT NULL,
    author    TEXT    NOT NULL,
    text      TEXT    NOT NULL
) STRICT;

CREATE INDEX ticket_notes_by_ticket ON ticket_notes (ticket_id, id);

-- Finished calls: the ivr.CallRecord as JSON, and the columns they are
-- looked up by. ticket_id is the ticket system's id, built-in or not.
CREATE TABLE calls (
    id         TEXT    NOT NULL PRIMARY KEY, -- the provider's call id
    line       TEXT    NOT NULL,
    caller     TEXT    NOT NULL,
    ticket_id  TEXT    NOT NULL DEFAULT '',
    started_at INTEGER NOT NULL,
    record     TEXT    NOT NULL
) STRICT;

CREATE INDEX calls_by_start ON calls (started_at, id);
CREATE INDEX calls_by_ticket ON calls (ticket_id, started_at);

-- Pages the flow requested, one per call, until the pager takes them.
CREATE TABLE page_requests (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id           TEXT    NOT NULL,
    ticket_id         TEXT    NOT NULL DEFAULT '',
    priority          TEXT    NOT NULL,
    level             INTEGER NOT NULL,
    voicemail_url     TEXT    NOT NULL DEFAULT '',
    voicemail_seconds INTEGER NOT NULL DEFAULT 0,
    line              TEXT    NOT NULL,
    caller            TEXT    NOT NULL DEFAULT '',
    requested_at      INTEGER NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'requested',
    CONSTRAINT page_requests_call_id_key UNIQUE (call_id)
) STRICT;

CREATE TABLE caller_languages (
    caller     TEXT    NOT NULL PRIMARY KEY, -- as the provider reports it, E.164
    language   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- The state of each call in progress, so that any instance can serve the
-- next webhook; version is compared and incremented on every update.
CREATE TABLE call_states (
    call_id    TEXT    NOT NULL PRIMARY KEY,
    version    INTEGER NOT NULL,
    data       BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX call_states_by_update ON call_states (updated_at);

CREATE TABLE recordings (
    id           TEXT    NOT NULL PRIMARY KEY, -- the provider's, e.g. RE…
    call_id      TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    data         BLOB    NOT NULL,
    seconds      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX recordings_by_created ON recordings (created_at);
