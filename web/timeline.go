package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// TimelineDays is how many days the timeline shows.
const TimelineDays = 14

// bar is a stretch of one row of the timeline, placed in percent of the
// window's width.
type bar struct {
	Left, Width string // percent, e.g. "12.500"
	Name        string
	Start, End  time.Time // clipped to the window
	Override    bool
}

type dayMark struct {
	Left, Width string
	Start       time.Time
	Hours       int // 24, or 23 / 25 on a day clocks change
}

type layerRow struct {
	Layer oncall.Layer
	Bars  []bar
}

type levelRows struct {
	Level  oncall.Level
	Layers []layerRow
	Gaps   []bar
}

type timelineView struct {
	From, To         time.Time
	Days             []dayMark
	Levels           []levelRows
	Gaps             []oncall.Gap // every level's, clipped to the window
	Prev, Next, Home string       // ?from= dates
	Now              string       // where now is, in percent; "" outside the window
}

// timeline shows TimelineDays days of shifts from ?from= (a date in the
// viewer's zone; default today), one row per level and layer, overrides
// marked, coverage gaps in red and listed in words.
func (s *Server) timeline(w http.ResponseWriter, r *http.Request, c *request) error {
	today := oncall.DateOf(s.now().In(c.zone))
	first := today
	if q := r.URL.Query().Get("from"); q != "" {
		d, err := oncall.ParseDate(q)
		if err != nil {
			return errs.InvalidField("from", "%s", err)
		}
		first = d
	}
	from, to := first.At(0, c.zone), first.AddDays(TimelineDays).At(0, c.zone)
	v := timelineView{From: from, To: to,
		Prev: first.AddDays(-TimelineDays).String(), Next: first.AddDays(TimelineDays).String(), Home: today.String()}
	span := to.Sub(from)
	place := func(a, b time.Time) (string, string) {
		if a.Before(from) {
			a = from
		}
		if b.After(to) {
			b = to
		}
		return percent(a.Sub(from), span), percent(b.Sub(a), span)
	}
	if now := s.now(); !now.Before(from) && now.Before(to) {
		v.Now = percent(now.Sub(from), span)
	}
	for i := range TimelineDays {
		a, b := first.AddDays(i).At(0, c.zone), first.AddDays(i+1).At(0, c.zone)
		l, wd := place(a, b)
		v.Days = append(v.Days, dayMark{Left: l, Width: wd, Start: a, Hours: int(b.Sub(a).Round(time.Hour) / time.Hour)})
	}
	snap := s.oncall.Snapshot()
	for _, level := range oncall.Levels {
		lr := levelRows{Level: level}
		shifts := snap.Schedule.Shifts(level, from, to)
		for _, layer := range oncall.Layers {
			row := layerRow{Layer: layer}
			for _, sh := range shifts {
				if sh.Layer != layer {
					continue
				}
				l, wd := place(sh.Start, sh.End)
				row.Bars = append(row.Bars, bar{Left: l, Width: wd, Name: snap.Engineers[sh.EngineerID].Name,
					Start: maxTime(sh.Start, from), End: minTime(sh.End, to), Override: sh.OverrideID != 0})
			}
			if len(row.Bars) > 0 || layer == oncall.Primary {
				lr.Layers = append(lr.Layers, row)
			}
		}
		for _, g := range snap.Schedule.Gaps(level, from, to) {
			g.Start, g.End = maxTime(g.Start, from), minTime(g.End, to)
			l, wd := place(g.Start, g.End)
			lr.Gaps = append(lr.Gaps, bar{Left: l, Width: wd, Start: g.Start, End: g.End})
			v.Gaps = append(v.Gaps, g)
		}
		v.Levels = append(v.Levels, lr)
	}
	return s.render(w, r, c, "timeline", v)
}

func percent(d, of time.Duration) string {
	return strconv.FormatFloat(100*float64(d)/float64(of), 'f', 3, 64)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
