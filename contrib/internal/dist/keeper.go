package dist

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Keeper keeps one lease alive from the holder's side, by the local clock:
// an engine's lease embeds it, sets its first end with Begin, and calls Run
// from its Keep. It makes the lease an Ending (Until).
type Keeper struct {
	until time.Time // only Begin and Run move it
	end   atomic.Pointer[time.Time]
}

// Begin sets where the lease ends by the local clock: counted from before
// the request that took it was sent, less the drift.
func (k *Keeper) Begin(until time.Time) {
	k.until = until
	k.end.Store(&until)
}

// Until is where the lease ends by the local clock, as far as its holder
// knows: counted from before its last refresh was sent, less the drift.
func (k *Keeper) Until() time.Time { return *k.end.Load() }

// Refresh is how an engine refreshes one lease.
type Refresh struct {
	Every   time.Duration // between refreshes: a third of the lease
	Attempt time.Duration // the bound of one attempt, well inside the lease
	Length  time.Duration // what a refresh buys, counted from before it was sent: the lease less the drift
	// Renew makes one refresh: true when the server renewed the lease,
	// false (and no error) when it refused (the lease is gone or another's).
	Renew   func(ctx context.Context) (bool, error)
	Refused string // the error of a refusal: "redis refused to refresh the lease: ..."
	Server  string // for the last error: "redis"
}

// Run refreshes the lease at once, then every r.Every, until ctx ends (nil)
// or the lease is lost (its error). A refresh the server refuses loses the
// lease at once; refreshes that fail are retried until the lease runs out by
// the local clock. Each attempt is bounded by r.Attempt, so that one that
// meets a connection gone silent (a flow a NAT dropped) is given up, and
// the next goes out at once on another connection.
func (k *Keeper) Run(ctx context.Context, r Refresh) error {
	var next time.Duration
	for {
		if next > 0 {
			t := time.NewTimer(next)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		start := time.Now()
		bound := k.until
		if b := start.Add(r.Attempt); b.Before(bound) {
			bound = b
		}
		rctx, cancel := context.WithDeadline(ctx, bound)
		ok, err := r.Renew(rctx)
		spent := rctx.Err() != nil
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil && ok:
			k.Begin(start.Add(r.Length))
			next = r.Every
			continue
		case err == nil:
			return errors.New(r.Refused)
		case !time.Now().Before(k.until):
			return fmt.Errorf("%w (last error from %s: %w)", ErrLeaseExpired, r.Server, err)
		}
		if spent { // the attempt used its time up: retry at once, on another connection
			next = 0
			continue
		}
		next = max(time.Until(k.until)/4, time.Millisecond) // retry sooner
	}
}
