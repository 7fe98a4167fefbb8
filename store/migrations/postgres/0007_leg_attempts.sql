-- Engineer legs of live calls join the pages' outbox (package pager,
-- legs.go): a leg is a voice attempt that belongs to a call (call_id, the
-- caller's CallSid; key is the leg id) instead of a page, so that the one
-- unique index page_attempts_voice_in_flight keeps one voice call in
-- flight per number for page calls and legs together. Keep constraint
-- names in step with the SQLite schema.

ALTER TABLE page_attempts ALTER COLUMN page_id DROP NOT NULL;
ALTER TABLE page_attempts
    ADD COLUMN call_id     TEXT,                       -- NULL for a page's attempt
    ADD COLUMN from_number TEXT    NOT NULL DEFAULT '', -- a leg's caller id: the line's number
    ADD COLUMN ring_ms     BIGINT  NOT NULL DEFAULT 0,  -- how long a leg rings
    ADD CONSTRAINT page_attempts_call_key UNIQUE (call_id, key),
    ADD CONSTRAINT page_attempts_owner CHECK ((page_id IS NULL) <> (call_id IS NULL));

-- Legs still waiting to be placed, oldest first (WaitingLegs).
CREATE INDEX page_attempts_legs_waiting ON page_attempts (created_at) WHERE status = 'intended' AND call_id IS NOT NULL;
