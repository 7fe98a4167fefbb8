package faketwilio

import "strings"

// OptOutType values: what kind of keyword an inbound message is.
const (
	optOutStop  = "STOP"
	optOutStart = "START"
	optOutHelp  = "HELP"
)

// optOutKeyword classifies an inbound body as Twilio's default keyword
// handling for long codes does: the whole body, trimmed, in any case, is
// one keyword ("stop please" is none). It returns STOP, START, HELP or "".
func optOutKeyword(body string) string {
	switch strings.ToUpper(strings.TrimSpace(body)) {
	case "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT":
		return optOutStop
	case "START", "YES", "UNSTOP":
		return optOutStart
	case "HELP", "INFO":
		return optOutHelp
	}
	return ""
}

// autoReply is the text Twilio itself sends back for a keyword, before the
// service's webhook answers, with the default (not Advanced Opt-Out)
// replies; "" when it sends none: nothing for a plain message, nothing for
// HELP from an opted-out number.
func autoReply(keyword string, optedOut bool) string {
	switch keyword {
	case optOutStop:
		return "You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe."
	case optOutStart:
		return "You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
	case optOutHelp:
		if !optedOut {
			return "Reply STOP to unsubscribe. Msg&Data Rates May Apply."
		}
	}
	return ""
}
