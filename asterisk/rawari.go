package asterisk

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/supportdesk/ivr/errs"
)

// RawARI makes, over HTTP with basic auth, the two ARI requests that
// ari/v5 v5.3.1 does not offer (hence by hand; each is one request):
// fetching a stored recording's audio (GET /recordings/stored/{name}/file)
// and moving a channel into another application (POST
// /channels/{id}/move, Asterisk 13.26 and 16.3 on). It is the Files and
// the Mover of a Config.
type RawARI struct {
	base, user, password string
	client               *http.Client
}

// NewRawARI makes requests to ARI at base (such as
// http://127.0.0.1:8088/ari), each bounded by timeout.
func NewRawARI(base, user, password string, timeout time.Duration) RawARI {
	return RawARI{base: strings.TrimSuffix(base, "/"), user: user, password: password,
		client: &http.Client{Timeout: timeout}}
}

func (r RawARI) do(ctx context.Context, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(r.user, r.password)
	return r.client.Do(req)
}

// StoredFile fetches stored recording name, at most maxBytes of it;
// errs.NotFound if Asterisk has none of that name.
func (r RawARI) StoredFile(ctx context.Context, name string, maxBytes int64) ([]byte, string, error) {
	resp, err := r.do(ctx, http.MethodGet, "/recordings/stored/"+url.PathEscape(name)+"/file")
	if err != nil {
		return nil, "", fmt.Errorf("fetch recording %s: %w", name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, "", errs.E(errs.NotFound, "", "fetch recording %s: Asterisk has none stored", name)
	default:
		return nil, "", fmt.Errorf("fetch recording %s: ARI answered %s", name, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("fetch recording %s: %w", name, err)
	}
	if int64(len(data)) > maxBytes {
		return nil, "", fmt.Errorf("fetch recording %s: larger than %d bytes", name, maxBytes)
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "audio/wav"
	}
	return data, ct, nil
}

// MoveChannel moves channel channelID, in a Stasis application, into
// application app with Stasis arguments args; errs.NotFound if the
// channel is gone.
func (r RawARI) MoveChannel(ctx context.Context, channelID, app string, args []string) error {
	q := url.Values{"app": {app}}
	if len(args) > 0 {
		q.Set("appArgs", strings.Join(args, ","))
	}
	resp, err := r.do(ctx, http.MethodPost, "/channels/"+url.PathEscape(channelID)+"/move?"+q.Encode())
	if err != nil {
		return fmt.Errorf("move channel %s to %s: %w", channelID, app, err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return nil
	case http.StatusNotFound:
		return errs.E(errs.NotFound, "", "move channel %s: Asterisk has no such channel", channelID)
	default:
		return fmt.Errorf("move channel %s to %s: ARI answered %s", channelID, app, resp.Status)
	}
}
