package faketwilio

import "fmt"

// Twilio error codes for numbers the test marked (Device.Invalid, …) or
// that opted out. Each is a 400 answer to the create request: Twilio keeps
// no resource and sends nothing, and no retry can succeed.
const (
	codeInvalidTo       = 21211 // Messages and Calls: not a valid phone number
	codeNoVoicePerm     = 21215 // Calls: voice geo permissions
	codeNoSMSPerm       = 21408 // Messages: messaging geo permissions
	codeUnsubscribed    = 21610 // Messages: the recipient texted STOP
	codeNotMobileNumber = 21614 // Messages: a landline
)

// phoneState is what the fake knows about a number beyond its calls and
// messages. Guarded by Server.mu.
type phoneState struct {
	optedOut bool // texted an opt-out keyword (or Device.OptOut)
	invalid  bool
	landline bool
	noSMS    bool // its region is off in messaging geo permissions
	noVoice  bool // its region is off in voice geo permissions
}

// phoneLocked returns the state of number, creating it. s.mu is held.
func (s *Server) phoneLocked(number string) *phoneState {
	p := s.phones[number]
	if p == nil {
		p = &phoneState{}
		s.phones[number] = p
	}
	return p
}

// mark changes the device's state under the lock.
func (d *Device) mark(f func(*phoneState)) *Device {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	f(d.s.phoneLocked(d.number))
	return d
}

// OptOut opts the device out as if it had texted STOP: Messages.create to
// it fails with 21610 until it texts START, YES or UNSTOP (Device.SendSMS).
// Calls are unaffected. Twilio scopes an opt-out to the number texted, or
// to the whole Messaging Service that number belongs to; the fake treats
// the account as one sender, so the opt-out covers every From.
func (d *Device) OptOut() *Device { return d.mark(func(p *phoneState) { p.optedOut = true }) }

// OptedOut reports whether the device is opted out (OptOut, or an opt-out
// keyword not followed by an opt-in one).
func (d *Device) OptedOut() bool {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	p := d.s.phones[d.number]
	return p != nil && p.optedOut
}

// Invalid makes the number one Twilio does not accept: Messages.create and
// Calls.create to it fail with 21211.
func (d *Device) Invalid() *Device { return d.mark(func(p *phoneState) { p.invalid = true }) }

// Landline makes the number a landline: Messages.create to it fails with
// 21614 ("not a valid mobile number"); calls to it work.
func (d *Device) Landline() *Device { return d.mark(func(p *phoneState) { p.landline = true }) }

// NoSMSPermission puts the number in a region the account's messaging geo
// permissions leave off: Messages.create to it fails with 21408.
func (d *Device) NoSMSPermission() *Device { return d.mark(func(p *phoneState) { p.noSMS = true }) }

// NoVoicePermission puts the number in a region the account's voice geo
// permissions leave off: Calls.create to it fails with 21215.
func (d *Device) NoVoicePermission() *Device { return d.mark(func(p *phoneState) { p.noVoice = true }) }

// refusal is the 400 Twilio answers a create request with.
func refusal(code int, format string, args ...any) *apiError {
	return &apiError{Status: 400, Code: code, Message: fmt.Sprintf(format, args...)}
}

// refuseMessageLocked returns Twilio's answer to Messages.create to a
// marked or opted-out number, nil if the message may go. s.mu is held.
func (s *Server) refuseMessageLocked(to string) *apiError {
	p := s.phones[to]
	switch {
	case p == nil:
		return nil
	case p.invalid:
		return refusal(codeInvalidTo, "The 'To' number %s is not a valid phone number.", to)
	case p.noSMS:
		return refusal(codeNoSMSPerm, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: %s.", to)
	case p.landline:
		return refusal(codeNotMobileNumber, "'To' number %s is not a valid mobile number", to)
	case p.optedOut:
		return refusal(codeUnsubscribed, "Attempt to send to unsubscribed recipient")
	}
	return nil
}

// refuseCallLocked returns Twilio's answer to Calls.create to a marked
// number, nil if the call may be placed. s.mu is held.
func (s *Server) refuseCallLocked(to string) *apiError {
	p := s.phones[to]
	switch {
	case p == nil:
		return nil
	case p.invalid:
		return refusal(codeInvalidTo, "The 'To' number %s is not a valid phone number.", to)
	case p.noVoice:
		return refusal(codeNoVoicePerm, "Account not authorized to call %s. Perhaps you need to enable some international permissions.", to)
	}
	return nil
}
