// Package calendar owns the iCalendar (RFC 5545) feeds of the on-call
// schedule: one engineer's shifts (every level and layer they are on call
// for) and one level's shifts (all its layers), served at subscription URLs
// that carry a secret, revocable, per-feed token. It builds feeds with
// github.com/arran4/golang-ical over the on-call domain's snapshot; it keeps
// feeds through a small Store and imports no database package.
//
// A feed covers Past before its generation to Ahead after it, in UTC (every
// time ends in Z; no TZID, so no VTIMEZONE is needed), lines ending CRLF and
// folded at 75 octets.
//
// UID rule, one per shift, stable across edits that do not touch the shift:
//
//	<level>-<layer>-rotation-<rotation id>-<start unix>-<end unix>@<host>   a rotation's shift
//	<level>-<layer>-override-<override id>-<start unix>@<host>             an override's shift
//
// e.g. L2-primary-rotation-7-1764576000-1765180800@ivr.example.com. An
// override is never edited (a change is a delete and a new override with a
// new id), so its id and start name it. A rotation's shift is named by its
// rotation and its exact extent: when its times change (an override cuts
// it, a deleted override gives it back whole, a rotation edit moves the
// handoff) it is another event, and the old UID leaves the feed, which
// subscribed calendars (Google, Apple, Thunderbird) drop on their next
// fetch. With the same extent, only a rotation edit (a new version) can
// change who is on call, so:
//
//   - SEQUENCE of a rotation's shift is the version of the rotation in force
//     at the shift's start (a rotation edit that changes the engineer of a
//     shift raises it); LAST-MODIFIED is that version's effective instant,
//     or the feed's generation time if that lies ahead.
//   - SEQUENCE of an override's shift is 0; LAST-MODIFIED is the override's
//     creation time.
//   - DTSTAMP is the feed's generation time.
//
// A swapped shift (an override) so leaves one engineer's feed (their
// rotation shift is cut or gone) and appears in the other's.
package calendar

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// The window a feed covers, from its generation time.
const (
	Past  = 30 * 24 * time.Hour  // shifts ending up to 30 days ago
	Ahead = 180 * 24 * time.Hour // shifts starting up to 180 days ahead
)

// AuditEntity names calendar feeds in the audit log.
const AuditEntity = "calendar_feed"

// Kind is what a feed shows.
type Kind string

const (
	EngineerFeed Kind = "engineer" // one engineer's shifts, every level and layer
	LevelFeed    Kind = "level"    // one level's shifts, every layer
)

// Feed is a stored subscription. Its secret token is never stored, only
// its hash.
type Feed struct {
	ID         int64        `json:"id"`
	Kind       Kind         `json:"kind"`
	EngineerID int64        `json:"engineer_id,omitempty"` // kind engineer
	Level      oncall.Level `json:"level,omitempty"`       // kind level
	Hash       string       `json:"-"`                     // hex SHA-256 of the token
	CreatedAt  time.Time    `json:"created_at"`
	RevokedAt  *time.Time   `json:"revoked_at,omitempty"`
}

// Store keeps feeds. CreateCalendarFeed and RevokeCalendarFeed write an
// audit entry (entity AuditEntity) for actor in the same transaction.
type Store interface {
	// CreateCalendarFeed stores f (Hash set; ID and CreatedAt filled in).
	// Invalid (field engineer_id) if an engineer feed names no existing,
	// undeleted engineer.
	CreateCalendarFeed(ctx context.Context, actor string, f Feed) (Feed, error)
	// CalendarFeedByHash returns the feed with this token hash, revoked or
	// not; NotFound if none.
	CalendarFeedByHash(ctx context.Context, hash string) (Feed, error)
	// CalendarFeed returns one feed; NotFound if absent.
	CalendarFeed(ctx context.Context, id int64) (Feed, error)
	// CalendarFeeds lists every feed, revoked ones included, by id.
	CalendarFeeds(ctx context.Context) ([]Feed, error)
	// RevokeCalendarFeed marks a feed revoked at at; NotFound if absent,
	// Conflict if revoked already.
	RevokeCalendarFeed(ctx context.Context, actor string, id int64, at time.Time) error
}

// TokenPrefix starts every feed token, so that a leaked one is easy to
// recognise.
const TokenPrefix = "cal_"

// HashToken returns the hex SHA-256 of a token, the form stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Path is where the feed with token is served, below the public URL.
func Path(token string) string { return "/calendar/" + token + ".ics" }

// Issue validates a request for a feed, stores it and returns it with its
// token, shown this once. Invalid naming the field for an unknown kind, an
// engineer feed without an engineer, or a level feed without a valid level.
func Issue(ctx context.Context, store Store, actor string, kind string, engineerID int64, level string) (Feed, string, error) {
	f := Feed{Kind: Kind(strings.ToLower(strings.TrimSpace(kind)))}
	switch f.Kind {
	case EngineerFeed:
		if engineerID <= 0 {
			return Feed{}, "", errs.InvalidField("engineer_id", "an engineer feed needs the id of its engineer")
		}
		if level != "" {
			return Feed{}, "", errs.InvalidField("level", "an engineer feed shows every level; leave level out")
		}
		f.EngineerID = engineerID
	case LevelFeed:
		if engineerID != 0 {
			return Feed{}, "", errs.InvalidField("engineer_id", "a level feed is not tied to an engineer; leave engineer_id out")
		}
		if level == "" {
			return Feed{}, "", errs.InvalidField("level", "is required for a level feed (L1, L2 or L3)")
		}
		l, err := oncall.ParseLevel(level)
		if err != nil {
			return Feed{}, "", errs.InvalidField("level", "%s", err)
		}
		f.Level = l
	case "":
		return Feed{}, "", errs.InvalidField("kind", "is required (engineer or level)")
	default:
		return Feed{}, "", errs.InvalidField("kind", "%q is not a feed kind (engineer or level)", kind)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Feed{}, "", fmt.Errorf("read random bytes: %w", err)
	}
	token := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	f.Hash = HashToken(token)
	out, err := store.CreateCalendarFeed(ctx, actor, f)
	if err != nil {
		return Feed{}, "", err
	}
	return out, token, nil
}

// HostOf returns the host name of publicURL (no port), the name events'
// UIDs end with; "localhost" if it has none.
func HostOf(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil || u.Hostname() == "" {
		return "localhost"
	}
	return u.Hostname()
}
