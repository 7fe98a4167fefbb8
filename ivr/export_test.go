package ivr

// What the black-box tests (package ivr_test, which drive the flow over
// ivrtest's dependencies) check of the package's insides: the catalogue as
// the flow holds it, the prompt builders, the ticket note's summary and
// how often a failed note is tried.

var (
	InternalCatalogue = catalogue
	FlowPrompts       = flowPrompts
	HasPrompt         = hasPrompt
	PriorityPrompt    = priorityPrompt
	PrioritySetPrompt = prioritySetPrompt
	ResponsePrompt    = responsePrompt
	ScreenLinePrompt  = screenLinePrompt
	Summary           = summary
)

const (
	NoteMaxTries  = noteMaxTries
	PLeaveMessage = pLeaveMessage
)

// Accepted reports whether the engineer on the leg accepted the call.
func (l Leg) Accepted() bool { return l.accepted() }
