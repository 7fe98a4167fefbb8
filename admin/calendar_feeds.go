package admin

import (
	"fmt"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/calendar"
	"github.com/supportdesk/ivr/errs"
)

const keyCalendarFeedID = "calendar_feed_id"

// feedURL is the subscription URL of the feed with token: the public URL,
// or, without one, the address the request came to.
func (s *Server) feedURL(r *http.Request, token string) string {
	base := strings.TrimRight(s.publicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + calendar.Path(token)
}

// createCalendarFeed makes a feed and shows its subscription URL once. An
// admin may create any feed; an engineer only the feed of their own shifts
// (engineer_id may be left out: their own).
func (s *Server) createCalendarFeed(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Kind       string `json:"kind"`
		EngineerID int64  `json:"engineer_id"`
		Level      string `json:"level"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if tok := tokenOf(r); tok.Role != access.Admin {
		if k := strings.ToLower(strings.TrimSpace(in.Kind)); k != "" && k != string(calendar.EngineerFeed) {
			return errs.E(errs.Forbidden, "kind", "an engineer token may create only the feed of its own shifts (kind engineer)")
		}
		if in.EngineerID != 0 && in.EngineerID != tok.EngineerID {
			return errs.E(errs.Forbidden, "engineer_id", "an engineer token may create only the feed of its own shifts (engineer %d)", tok.EngineerID)
		}
		in.Kind, in.EngineerID = string(calendar.EngineerFeed), tok.EngineerID
	}
	f, token, err := calendar.Issue(r.Context(), s.calendarFeeds, actor(r), in.Kind, in.EngineerID, in.Level)
	if err != nil {
		return err
	}
	s.logChange(r, "calendar feed created", zap.Int64(keyCalendarFeedID, f.ID))
	w.Header().Set("Location", fmt.Sprintf("/api/v1/calendar-feeds/%d", f.ID))
	writeJSON(w, http.StatusCreated, map[string]any{"feed": f, "url": s.feedURL(r, token)})
	return nil
}

// listCalendarFeeds lists feeds without their tokens: every feed for an
// admin, an engineer's own feeds for an engineer.
func (s *Server) listCalendarFeeds(w http.ResponseWriter, r *http.Request) error {
	feeds, err := s.calendarFeeds.CalendarFeeds(r.Context())
	if err != nil {
		return err
	}
	if tok := tokenOf(r); tok.Role != access.Admin {
		var own []calendar.Feed
		for _, f := range feeds {
			if f.Kind == calendar.EngineerFeed && f.EngineerID == tok.EngineerID {
				own = append(own, f)
			}
		}
		feeds = own
	}
	writeJSON(w, http.StatusOK, map[string]any{"feeds": orEmpty(feeds)})
	return nil
}

// revokeCalendarFeed revokes a feed: its URL answers 404 from then on. An
// engineer may revoke only their own feeds.
func (s *Server) revokeCalendarFeed(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if tok := tokenOf(r); tok.Role != access.Admin {
		f, err := s.calendarFeeds.CalendarFeed(r.Context(), id)
		if err != nil {
			return err
		}
		if f.Kind != calendar.EngineerFeed || f.EngineerID != tok.EngineerID {
			return errs.E(errs.Forbidden, "", "an engineer token may revoke only the feeds of its own shifts")
		}
	}
	if err := s.calendarFeeds.RevokeCalendarFeed(r.Context(), actor(r), id, s.oncall.Now()); err != nil {
		return err
	}
	s.logChange(r, "calendar feed revoked", zap.Int64(keyCalendarFeedID, id))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
