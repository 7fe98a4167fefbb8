package arilink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Request runs one request of the ARI library, fn, bounded by timeout.
// The library's native client takes no context and sets no timeout of its
// own (its RequestTimeout is declared but unused in v5.3.1), so fn runs
// aside and is given up on at the deadline; it ends when the library's
// HTTP client returns (the Link's relay bounds that too). what names the
// request in the error.
func Request(ctx context.Context, timeout time.Duration, what string, fn func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: no answer from ARI: %w", what, ctx.Err())
	}
}

// NotFound reports whether err, from the ARI library, is ARI's 404: the
// channel, playback or bridge is gone already. The library's native
// errors have Code, but those of its Data methods wrap it in a type
// without Unwrap, keeping only its text, "Non-2XX response: 404 Not
// Found".
func NotFound(err error) bool {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		return coded.Code() == http.StatusNotFound
	}
	return err != nil && strings.Contains(err.Error(), "Non-2XX response: 404 ")
}
