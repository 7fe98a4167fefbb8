package web

import (
	"net/http"
	"time"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

// boardRow is one level's layer now: who, since and until when, who next.
type boardRow struct {
	Level     oncall.Level
	Layer     oncall.Layer
	On        *oncall.Engineer // nil: nobody (a gap in this layer)
	Start     time.Time
	End       time.Time
	OpenEnded bool
	Override  bool
	Next      *oncall.Engineer // who takes over at End; nil: nobody
	// LevelGap: nobody is on call at this level in any layer.
	LevelGap bool
}

type boardView struct {
	Rows  []boardRow
	Lines []ivr.Line
	Pages []pager.Page // open or acknowledged, not closed
	Now   time.Time
}

// board shows who is on call now at every level and layer, the lines, and
// the pages open now.
func (s *Server) board(w http.ResponseWriter, r *http.Request, c *request) error {
	now := s.now()
	v := boardView{Lines: s.lines, Now: now}
	for _, level := range oncall.Levels {
		first := len(v.Rows)
		covered := false
		for _, layer := range oncall.Layers {
			row := boardRow{Level: level, Layer: layer}
			if a, ok := s.oncall.OnCall(level, layer, now); ok {
				e := a.Engineer
				covered = true
				row.On, row.Start, row.End, row.OpenEnded = &e, a.Shift.Start, a.Shift.End, a.Shift.OpenEnded()
				row.Override = a.Shift.OverrideID != 0
				if !row.OpenEnded {
					if n, ok := s.oncall.OnCall(level, layer, a.Shift.End); ok {
						ne := n.Engineer
						row.Next = &ne
					}
				}
			} else if layer != oncall.Primary {
				continue // an empty secondary layer is not worth a row
			}
			v.Rows = append(v.Rows, row)
		}
		for i := first; i < len(v.Rows); i++ {
			v.Rows[i].LevelGap = !covered
		}
	}
	if s.pages != nil {
		open, err := s.pages.Pages(r.Context(), pager.Filter{Limit: 200})
		if err != nil {
			return err
		}
		for _, p := range open {
			if !p.Status.Closed() {
				v.Pages = append(v.Pages, p)
			}
		}
	}
	return s.render(w, r, c, "board", v)
}
