package ivr_test

import (
	"fmt"
	"strings"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// describe and its helpers write a Result as one comparable line.

func allPrompts(res ivr.Result) []ivr.Prompt {
	ps := ivr.StepPrompts(res.Caller)
	for _, l := range res.Legs {
		ps = append(ps, ivr.StepPrompts(l.Step)...)
	}
	return ps
}

// describe writes a Result as one line, e.g.
//
//	ring CA1-leg1 e11 +79990000011 cid=+74996383867 25s | caller: hold ru[searching hold_offer_message]
//
// Prompts are grouped by language; digit prompts are written d:123.
func describe(res ivr.Result) string {
	var parts []string
	for _, a := range res.Actions {
		switch a := a.(type) {
		case ivr.Ring:
			parts = append(parts, fmt.Sprintf("ring %s e%d %s cid=%s %s", a.LegID, a.EngineerID, a.Phone, a.CallerID, a.Timeout))
		case ivr.Cancel:
			parts = append(parts, "cancel "+a.LegID)
		}
	}
	if res.Caller != nil {
		parts = append(parts, "caller: "+describeStep(res.Caller))
	}
	for _, l := range res.Legs {
		parts = append(parts, l.LegID+": "+describeStep(l.Step))
	}
	if res.Done {
		parts = append(parts, "done")
	}
	return strings.Join(parts, " | ")
}

func describeStep(s ivr.Step) string {
	var head string
	switch s := s.(type) {
	case ivr.Play:
		head = "play"
	case ivr.Gather:
		head = fmt.Sprintf("gather(%d%s,%s)", s.MaxDigits, s.Terminator, s.Timeout)
	case ivr.Hold:
		head = "hold"
	case ivr.Connect:
		head = "connect(" + s.LegID + ")"
	case ivr.Record:
		head = fmt.Sprintf("record(%s)", s.MaxLength)
	case ivr.Hangup:
		head = "hangup"
	}
	if ps := describePrompts(ivr.StepPrompts(s)); ps != "" {
		return head + " " + ps
	}
	return head
}

func describePrompts(ps []ivr.Prompt) string {
	var groups []string
	var lang oncall.Language
	var words []string
	flush := func() {
		if len(words) > 0 {
			groups = append(groups, fmt.Sprintf("%s[%s]", lang, strings.Join(words, " ")))
		}
		words = nil
	}
	for _, p := range ps {
		if p.Lang != lang {
			flush()
			lang = p.Lang
		}
		if d, ok := strings.CutPrefix(p.Name, "digit_"); ok {
			if n := len(words); n > 0 && strings.HasPrefix(words[n-1], "d:") {
				words[n-1] += d
				continue
			}
			words = append(words, "d:"+d)
			continue
		}
		words = append(words, p.Name)
	}
	flush()
	return strings.Join(groups, " ")
}
