-- finished_at marks a call whose flow is done, so that the sweeper, which
-- finishes calls whose end was never reported, looks only at open ones.
ALTER TABLE call_states ADD COLUMN finished_at INTEGER;

CREATE INDEX call_states_open ON call_states (updated_at) WHERE finished_at IS NULL;
