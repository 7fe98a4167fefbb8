package oncall_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// countedStore counts the rotation loads, one per refresh.
type countedStore struct {
	oncall.Store
	loads atomic.Int64
}

func (c *countedStore) Rotations(ctx context.Context) ([]oncall.Rotation, error) {
	c.loads.Add(1)
	return c.Store.Rotations(ctx)
}

// The service reloads its schedule at each tick of RunRefresh, and only
// then, until its context ends.
func TestRunRefresh(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		st := &countedStore{Store: db}
		svc := oncall.NewService(st, zap.NewNop(), oncall.ServiceOptions{})
		ticks := make(chan time.Time)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { svc.RunRefresh(ctx, ticks); close(done) }()
		before := st.loads.Load()
		ticks <- time.Now()
		ticks <- time.Now() // taken once the first refresh is over
		ticks <- time.Now()
		cancel()
		<-done
		if n := st.loads.Load() - before; n != 3 {
			t.Fatalf("%d refreshes for 3 ticks, want 3", n)
		}
	})
}
