-- Phone numbers that opted out of texts: they texted STOP (or Twilio
-- refused a text to them with 21610), and texted START or UNSTOP since
-- only if opted_out is 0. The pager sends them no texts and pages them by
-- voice. changed_at (unix microseconds, UTC) is when the provider's word
-- came: a later word wins, an earlier one arriving late changes nothing.
-- Keep in step with the PostgreSQL schema.

CREATE TABLE sms_opt_outs (
    phone      TEXT    NOT NULL PRIMARY KEY, -- E.164
    opted_out  INTEGER NOT NULL,             -- 1: no texts; 0: opted back in
    changed_at INTEGER NOT NULL
) STRICT;
