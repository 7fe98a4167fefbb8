package main

// Log keys of the commands.
const (
	keyAddr      = "addr"
	keyAttemptID = "attempt_id"
	keyBackend   = "backend"
	keyCallerID  = "caller_id"
	keyCount     = "count"
	keyDB        = "db"
	keyDir       = "dir"
	keyPageID    = "page_id"
	keyPhase     = "phase"
	keyPublicURL = "public_url"
	keyRecords   = "records"
	keySpeed     = "speed"
	keyUnchecked = "unchecked"
)
