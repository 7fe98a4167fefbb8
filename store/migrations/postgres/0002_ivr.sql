-- What the phone line keeps: the built-in tickets and their notes, the
-- call log, requested pages, callers' languages, the state of calls in
-- progress (for stateless webhook drivers) and voicemail recordings.
-- Times are unix microseconds (UTC) in BIGINT. Keep constraint names in
-- step with the SQLite schema.

-- Ticket ids start at 1001 (tickets.FirstID).
CREATE TABLE tickets (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY (START WITH 1001) PRIMARY KEY,
    subject      TEXT    NOT NULL,
    priority     TEXT    NOT NULL,
    level        INTEGER NOT NULL,
    caller_phone TEXT    NOT NULL DEFAULT '', -- E.164 or ''
    language     TEXT    NOT NULL DEFAULT '',
    line         TEXT    NOT NULL DEFAULT '', -- E.164 or ''
    created_at   BIGINT  NOT NULL
);

CREATE TABLE ticket_notes (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id BIGINT NOT NULL CONSTRAINT ticket_notes_ticket_id_fkey REFERENCES tickets (id),
    at        BIGINT NOT NULL,
    author    TEXT   NOT NULL,
    text      TEXT   NOT NULL
);

CREATE INDEX ticket_notes_by_ticket ON ticket_notes (ticket_id, id);

-- Finished calls: the ivr.CallRecord as JSON (TEXT, so that it reads back
-- byte for byte), and the columns they are looked up by. ticket_id is the
-- ticket system's id, built-in or not.
CREATE TABLE calls (
    id         TEXT   NOT NULL, -- the provider's call id
    line       TEXT   NOT NULL,
    caller     TEXT   NOT NULL,
    ticket_id  TEXT   NOT NULL DEFAULT '',
    started_at BIGINT NOT NULL,
    record     TEXT   NOT NULL,
    CONSTRAINT calls_pkey PRIMARY KEY (id)
);

CREATE INDEX calls_by_start ON calls (started_at, id);
CREATE INDEX calls_by_ticket ON calls (ticket_id, started_at);

-- Pages the flow requested, one per call, until the pager takes them.
CREATE TABLE page_requests (
    id                BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id           TEXT    NOT NULL,
    ticket_id         TEXT    NOT NULL DEFAULT '',
    priority          TEXT    NOT NULL,
    level             INTEGER NOT NULL,
    voicemail_url     TEXT    NOT NULL DEFAULT '',
    voicemail_seconds INTEGER NOT NULL DEFAULT 0,
    line              TEXT    NOT NULL,
    caller            TEXT    NOT NULL DEFAULT '',
    requested_at      BIGINT  NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'requested',
    CONSTRAINT page_requests_call_id_key UNIQUE (call_id)
);

CREATE TABLE caller_languages (
    caller     TEXT   NOT NULL, -- as the provider reports it, E.164
    language   TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT caller_languages_pkey PRIMARY KEY (caller)
);

-- The state of each call in progress, so that any instance can serve the
-- next webhook; version is compared and incremented on every update.
CREATE TABLE call_states (
    call_id    TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    data       BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT call_states_pkey PRIMARY KEY (call_id)
);

CREATE INDEX call_states_by_update ON call_states (updated_at);

CREATE TABLE recordings (
    id           TEXT    NOT NULL, -- the provider's, e.g. RE…
    call_id      TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    data         BYTEA   NOT NULL,
    seconds      INTEGER NOT NULL,
    created_at   BIGINT  NOT NULL,
    CONSTRAINT recordings_pkey PRIMARY KEY (id)
);

CREATE INDEX recordings_by_created ON recordings (created_at);
