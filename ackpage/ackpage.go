// Package ackpage owns the page an engineer opens from the link at the end
// of a page's text: GET shows the page (priority, ticket, summary, status)
// with one button, and only that button's POST acknowledges it, for the
// engineer the link was made for, so that link previewers fetching the
// link never do. It makes and checks the links too: a links token for the
// purpose "ack" whose subject is "<page id>-<engineer id>", valid until a
// day after the page's deadline. It imports pager, links, oncall and errs;
// never the Twilio driver (webhooks) nor the admin API.
package ackpage

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/links"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

const (
	// PathPrefix is the links' route: PathPrefix + token.
	PathPrefix = "/a/"
	// Purpose is the links' purpose: a token made for another purpose
	// never acknowledges.
	Purpose = "ack"
	// Grace is how long after a page's deadline its links still work.
	Grace = 24 * time.Hour
)

// Log keys.
const (
	keyPage     = "page_id"
	keyEngineer = "engineer_id"
	keyReason   = "reason"
)

// Links makes acknowledgement links.
type Links struct {
	signer *links.Signer
	base   string
}

// NewLinks returns the maker of links under signer, at publicURL (the
// service's public base URL).
func NewLinks(signer *links.Signer, publicURL string) Links {
	return Links{signer: signer, base: strings.TrimSuffix(publicURL, "/") + PathPrefix}
}

// URL is the link with which engineerID acknowledges page pageID, valid
// until Grace after deadline; "" for no engineer (pager.Rules.AckLink).
func (l Links) URL(pageID, engineerID int64, deadline time.Time) string {
	if l.signer == nil || pageID <= 0 || engineerID <= 0 {
		return ""
	}
	subject := strconv.FormatInt(pageID, 10) + "-" + strconv.FormatInt(engineerID, 10)
	return l.base + l.signer.Token(Purpose, subject, deadline.Add(Grace))
}

// check returns the page and engineer of token, or why it is not valid.
func (l Links) check(token string, now time.Time) (pageID, engineerID int64, err error) {
	subject, err := l.signer.Check(Purpose, token, now)
	if err != nil {
		return 0, 0, err
	}
	p, e, ok := strings.Cut(subject, "-")
	pageID, perr := strconv.ParseInt(p, 10, 64)
	engineerID, eerr := strconv.ParseInt(e, 10, 64)
	if !ok || perr != nil || eerr != nil || pageID <= 0 || engineerID <= 0 {
		return 0, 0, links.ErrInvalid
	}
	return pageID, engineerID, nil
}

// Pages is the pager as the page uses it.
type Pages interface {
	// Page returns page id; errs.NotFound if there is none.
	Page(ctx context.Context, id int64) (pager.Page, []pager.Attempt, error)
	// Acknowledge takes page id for ack's engineer; a closed page is
	// left as it is.
	Acknowledge(ctx context.Context, id int64, ack pager.Acknowledge) (pager.Page, error)
}

// Engineers finds the engineer a link was made for.
type Engineers interface {
	// Engineer returns engineer id; errs.NotFound if there is none.
	Engineer(ctx context.Context, id int64) (oncall.Engineer, error)
}

// Config is what a Handler needs.
type Config struct {
	Links     Links     // required
	Pages     Pages     // required
	Engineers Engineers // required
	Now       func() time.Time
	Log       *zap.Logger
}

// Handler serves PathPrefix + token: GET and HEAD show the page, POST
// acknowledges it.
type Handler struct {
	links     Links
	pages     Pages
	engineers Engineers
	now       func() time.Time
	log       *zap.Logger
}

// New returns the handler of acknowledgement links.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Links.signer == nil:
		return nil, errors.New("ackpage: Config.Links is required")
	case cfg.Pages == nil:
		return nil, errors.New("ackpage: Config.Pages is required")
	case cfg.Engineers == nil:
		return nil, errors.New("ackpage: Config.Engineers is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	return &Handler{links: cfg.Links, pages: cfg.Pages, engineers: cfg.Engineers, now: cfg.Now, log: cfg.Log.Named("ackpage")}, nil
}

// ServeHTTP shows the page of the link (GET, HEAD) or acknowledges it
// (POST). A forged, changed or expired link gets 404 and a page saying the
// link is not valid.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secure(w.Header())
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		h.render(w, http.StatusMethodNotAllowed, view{Broken: true})
		return
	}
	ctx := r.Context()
	pageID, engID, err := h.links.check(strings.TrimPrefix(r.URL.Path, PathPrefix), h.now())
	if err != nil {
		h.log.Info("acknowledgement link refused", zap.String(keyReason, err.Error()))
		h.render(w, http.StatusNotFound, view{Invalid: true})
		return
	}
	log := h.log.With(zap.Int64(keyPage, pageID), zap.Int64(keyEngineer, engID))
	eng, err := h.engineers.Engineer(ctx, engID)
	if err != nil {
		h.lookupFailed(w, log, "engineer", err)
		return
	}
	p, _, err := h.pages.Page(ctx, pageID)
	if err != nil {
		h.lookupFailed(w, log, "page", err)
		return
	}
	v := view{Lang: pager.TargetOf(eng).Language, Engineer: eng, zone: zone(eng.TimeZone)}
	if r.Method == http.MethodPost {
		p, err = h.pages.Acknowledge(ctx, pageID, pager.Acknowledge{EngineerID: eng.ID, Name: eng.Name, Via: pager.ViaLink})
		if err != nil {
			log.Error("acknowledge by link", zap.Error(err))
			h.render(w, http.StatusInternalServerError, view{Broken: true})
			return
		}
		v.Posted = true
		log.Info("page acknowledged by link", zap.String(keyStatus, string(p.Status)), zap.Int64(keyAckedBy, p.AckedBy))
	}
	v.Page = p
	v.Now = h.now()
	h.render(w, http.StatusOK, v)
}

// lookupFailed answers a link whose page or engineer cannot be read: not
// valid when it is gone, broken when the store fails.
func (h *Handler) lookupFailed(w http.ResponseWriter, log *zap.Logger, what string, err error) {
	if errs.Is(err, errs.NotFound) {
		log.Info("acknowledgement link refused", zap.String(keyReason, "no such "+what))
		h.render(w, http.StatusNotFound, view{Invalid: true})
		return
	}
	log.Error("acknowledgement link: read the "+what, zap.Error(err))
	h.render(w, http.StatusInternalServerError, view{Broken: true})
}

func zone(name string) *time.Location {
	loc, err := oncall.LoadZone(name)
	if err != nil || name == "" {
		return time.UTC
	}
	return loc
}

// secure sets the headers of every answer: nothing cached or sent on as a
// referrer (the URL is a credential), no scripts, frames or outside
// resources, the form posting only back here.
func secure(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Robots-Tag", "noindex, nofollow")
}

func (h *Handler) render(w http.ResponseWriter, status int, v view) {
	w.WriteHeader(status)
	if err := page.Execute(w, v); err != nil {
		h.log.Error("render acknowledgement page", zap.Error(err))
	}
}

// csp allows the page's one stylesheet, by its hash, and nothing else.
var csp = func() string {
	sum := sha256.Sum256([]byte(style))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; img-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}()

// More log keys.
const (
	keyAckedBy = "acked_by"
	keyStatus  = "status"
)
