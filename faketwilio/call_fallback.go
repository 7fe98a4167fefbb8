package faketwilio

// FallbackURL is the FallbackUrl the call was created with ("" if none):
// where Twilio turns when the call's TwiML cannot be fetched or run.
func (h *CallHandle) FallbackURL() string {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.c.fallbackURL
}
