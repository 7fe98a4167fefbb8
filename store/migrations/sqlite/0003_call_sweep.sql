-- finished_at marks a call whose flow is done, so that the sweeper, which
-- finishes calls whose end was never reported, looks only at open ones.
ALTER TABLE call_states ADD COLUMN finished_at INTEGER;

-- Keyed on call_id, which never changes, so that updating a call's state
-- does not touch this index; the open calls are few and sorted on read.
CREATE INDEX call_states_open ON call_states (call_id) WHERE finished_at IS NULL;

-- The hourly retention sweep scans the table instead: every call-state
-- write no longer updates a second index.
DROP INDEX call_states_by_update;
