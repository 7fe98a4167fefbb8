package pager

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/oncall"
)

// Storms: when many pages reach one engineer at once, they get one call,
// not one each. While a page call rings them, the others' calls wait (one
// call in flight per number); when the next is made, every waiting call of
// an open page that is not critical is folded into it: that call says how
// many pages there are, and pressing 1 acknowledges every one it
// announced. The first page to an engineer is never held back, and a
// critical page is never folded into another's call.

// Announced records that the page's call AttemptID also announces Pages
// (their calls were folded into it).
type Announced struct {
	AttemptID int64
	Pages     []int64
}

// FoldedInto records that the page's call AttemptID was folded into the
// call of page IntoPage; the attempt has ended (Folded) already.
type FoldedInto struct {
	AttemptID int64
	IntoPage  int64
}

func (Announced) isEvent()  {}
func (FoldedInto) isEvent() {}

func (m *machine) announced(ev Announced) {
	p := m.p
	if len(ev.Pages) == 0 || p.DigestOf(ev.AttemptID) != nil {
		return
	}
	p.Digests = append(p.Digests, Digest{AttemptID: ev.AttemptID, Pages: slices.Clone(ev.Pages)})
	ids := make([]string, len(ev.Pages))
	for i, id := range ev.Pages {
		ids[i] = strconv.FormatInt(id, 10)
	}
	m.log("storm", "the call of attempt %d also announces pages %s", ev.AttemptID, strings.Join(ids, ", "))
}

func (m *machine) foldedInto(ev FoldedInto) {
	m.log("storm", "the page call of attempt %d waits in page %d's call to the same engineer", ev.AttemptID, ev.IntoPage)
}

// VoiceLine is what is going on with one phone's page calls.
type VoiceLine struct {
	InFlight bool // a page call to it is being made or rings
	Waiting  int  // page calls waiting for it
}

// Lines is the part of the Store that says which phones have page calls
// in flight or waiting.
type Lines interface {
	VoiceLines(ctx context.Context) (map[string]VoiceLine, error)
}

// lines reads the phones' page calls before an event's transaction, as
// optOuts does; nil when they cannot be read (a page then simply waits
// for the line).
func (e *Engine) lines(ctx context.Context) map[string]VoiceLine {
	out, err := e.cfg.Store.VoiceLines(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("could not read which phones have page calls in flight", zap.Error(err))
		}
		return nil
	}
	return out
}

// Folder is the part of the Store that folds page calls together.
type Folder interface {
	// FoldVoice ends, as Folded, every other Intended page call to the
	// number of attempt leader (held by owner) whose page is open and not
	// critical, and returns them as they were. A critical leader folds
	// nothing.
	FoldVoice(ctx context.Context, leaderID int64, owner string, lease time.Duration) ([]Attempt, error)
	// LastPageCall returns when the latest page call to a number that was
	// made ended; false if none was.
	LastPageCall(ctx context.Context, to string) (time.Time, bool, error)
}

// storm applies the storm rules to page call a before it is made: a call
// too soon after the engineer's last one waits (unless its page is
// critical), and the calls waiting for the same engineer are folded into
// it. It reports whether a was put back to wait.
func (e *Engine) storm(ctx context.Context, log *zap.Logger, a Attempt) (deferred bool) {
	f := e.cfg.Store
	if e.cfg.StormGap > 0 {
		p, _, err := e.cfg.Store.Page(ctx, a.PageID)
		if err != nil {
			log.Warn("storm rules: could not read the page; calling now", zap.Error(err))
			return false
		}
		if p.Priority != oncall.Critical {
			last, ok, err := f.LastPageCall(ctx, a.To)
			if err != nil {
				log.Warn("storm rules: could not read the last page call; calling now", zap.Error(err))
			} else if next := last.Add(e.cfg.StormGap); ok && e.cfg.Clock.Now().Before(next) {
				if err := e.cfg.Store.RetryAttempt(ctx, a.ID, e.cfg.Owner, next, "waits for the storm gap after the last page call"); err != nil {
					log.Error("storm rules: could not put a page call back to wait", zap.Error(err))
					return false
				}
				log.Info("page call waits: the engineer had one moments ago", zap.Time(keyAt, next))
				return true
			}
		}
	}
	folded, err := f.FoldVoice(ctx, a.ID, e.cfg.Owner, e.cfg.Lease)
	if err != nil {
		log.Warn("storm rules: could not fold waiting page calls; each goes on its own", zap.Error(err))
		return false
	}
	if len(folded) == 0 {
		return false
	}
	pages := make([]int64, 0, len(folded))
	for _, o := range folded {
		if !slices.Contains(pages, o.PageID) && o.PageID != a.PageID {
			pages = append(pages, o.PageID)
		}
		if _, err := e.Handle(ctx, o.PageID, FoldedInto{AttemptID: o.ID, IntoPage: a.PageID}); err != nil {
			log.Warn("storm rules: could not log a folded page call", zap.Int64(keyPage, o.PageID), zap.Error(err))
		}
		e.cfg.Observer.Ended(o.Kind, Folded)
	}
	if _, err := e.Handle(ctx, a.PageID, Announced{AttemptID: a.ID, Pages: pages}); err != nil {
		log.Error("storm rules: could not record the pages a call announces", zap.Error(err))
	}
	log.Info("page calls folded into one", zap.Int(keyPages, len(pages)+1))
	return false
}

// textWhileBusy sends the rung's text at once when the page call just
// added (channel c of rung r) must wait for the engineer's line: a page
// that finds a call in flight to its engineer goes out as a text now and
// by voice when the line is free. Only the first page to find the line
// busy does, and any critical one: the pages waiting behind it are
// announced together by the next call (a storm), not texted one by one.
func (m *machine) textWhileBusy(r Rung, c int) {
	p, t := m.p, m.p.Current.Target
	if m.env.Line == nil {
		return
	}
	line := m.env.Line(t.Phone)
	if !line.InFlight || (line.Waiting > 0 && p.Priority != oncall.Critical) {
		return
	}
	if !slices.Contains(r.Channels[c+1:], oncall.SMS) || t.SMSPhone == "" || m.textsOff(t) {
		return
	}
	m.log("line busy", "another page call rings %s: texting now, calling when the line is free", t.Name)
	m.add(Attempt{Kind: KindSMS, Purpose: PurposePage, EngineerID: t.EngineerID, To: t.SMSPhone, Language: t.Language,
		Body: PageText(p, t.Language, m.now(), m.env.Rules)})
	p.Current.TextedEarly = true
}
