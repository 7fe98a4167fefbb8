-- Numbers engineers add for themselves are confirmed with a code (package
-- verify) before pages go there. Every number stored so far was entered
-- as numbers were trusted until now, so each becomes verified. A code is
-- kept as its keyed hash only, with how it was sent, its tries and how it
-- closed; its message leaves through the pages' outbox as an attempt
-- owned by the code (code_id) instead of a page or a call, so that it is
-- sent off the request path, survives a crash, and a call that reads it
-- keeps to the one voice call in flight per number. Keep constraint names
-- in step with the SQLite schema.

UPDATE engineers SET contacts = (
    SELECT COALESCE(json_agg(j.elem::jsonb || '{"verified": true}'::jsonb ORDER BY j.ord), '[]'::json)::text
    FROM json_array_elements(engineers.contacts::json) WITH ORDINALITY AS j (elem, ord)
) WHERE json_array_length(contacts::json) > 0;

CREATE TABLE contact_codes (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    engineer_id BIGINT  NOT NULL CONSTRAINT contact_codes_engineer_id_fkey REFERENCES engineers (id),
    phone       TEXT    NOT NULL, -- E.164
    hash        TEXT    NOT NULL, -- hex HMAC-SHA256: never the code
    kind        TEXT    NOT NULL, -- sms or voice
    tries       INTEGER NOT NULL DEFAULT 0, -- wrong codes given
    sent_at     BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    closed_at   BIGINT,                     -- NULL while the code is open
    outcome     TEXT    NOT NULL DEFAULT '' -- confirmed, voided, replaced
);

-- The open code of an engineer's number (OpenCode), and the codes a
-- number, or an engineer's numbers, were sent lately (the resend limits).
CREATE INDEX contact_codes_open ON contact_codes (engineer_id, phone) WHERE closed_at IS NULL;
CREATE INDEX contact_codes_by_phone ON contact_codes (phone, sent_at);
CREATE INDEX contact_codes_by_engineer ON contact_codes (engineer_id, sent_at);

ALTER TABLE page_attempts
    ADD COLUMN code_id BIGINT CONSTRAINT page_attempts_code_id_fkey REFERENCES contact_codes (id), -- a code's attempt
    ADD CONSTRAINT page_attempts_code_key UNIQUE (code_id, key),
    DROP CONSTRAINT page_attempts_owner,
    ADD CONSTRAINT page_attempts_owner CHECK (num_nonnulls(page_id, call_id, code_id) = 1);
