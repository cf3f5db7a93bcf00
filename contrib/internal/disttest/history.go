package disttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
)

// Hold is one hold of a lock as its holder knew it: from the moment its
// Acquire returned to the moment it began its Release, or was told of its
// lease's loss, whichever came first.
type Hold struct {
	Who       string
	Token     int64
	Called    time.Time // when its Acquire was called; zero when not known
	Acquired  time.Time
	Released  time.Time // when Release was called
	Lost      time.Time // when the loss was found; zero when it was not
	ReleaseAt time.Time // when Release returned
}

// End is when the holder stopped believing it held the lock.
func (h Hold) End() time.Time {
	if !h.Lost.IsZero() && h.Lost.Before(h.Released) {
		return h.Lost
	}
	return h.Released
}

// History records holds of one lock, from any goroutines, and the
// operations they were made of (Ops), for the linearizability check.
type History struct {
	mu    sync.Mutex
	holds []Hold
	ops   []Op
}

// Losing is what History needs of a handle beyond Lock: when its hold's
// lease was found lost.
type Losing interface {
	LostAt() (time.Time, error)
}

// Acquired records that who's Acquire on l just returned true; it returns
// the hold, for Release.
//
// The acquisition is recorded as an operation of a moment, when it
// returned; Acquire records its call too.
func (h *History) Acquired(who string, l Lock) *Hold {
	now := time.Now()
	return h.acquired(who, l, now, now)
}

func (h *History) acquired(who string, l Lock, called, now time.Time) *Hold {
	tok, _ := l.Token()
	h.Op(Op{Who: who, Kind: OpAcquire, Outcome: Done, Token: tok, Call: since(called), Return: since(now)})
	return &Hold{Who: who, Token: tok, Called: called, Acquired: now}
}

// Acquire calls who's l.Acquire and records it: the hold when it took the
// lock; an Acquire that did not (its ctx ended, an error) is recorded as an
// operation whose outcome is unknown.
func (h *History) Acquire(ctx context.Context, who string, l Lock) (*Hold, error) {
	called := time.Now()
	ok, err := l.Acquire(ctx)
	if ok {
		return h.acquired(who, l, called, time.Now()), err
	}
	h.Op(Op{Who: who, Kind: OpAcquire, Outcome: Unknown, Call: since(called), Return: pending})
	return nil, err
}

// Release releases l, recording when, and whether the hold had been lost;
// it returns Release's error. The release is recorded as an operation (of
// an unknown outcome on an error other than ErrLockLost or ErrNotLocked),
// and a lease found lost (LostAt, or the release's ErrLockLost) as a
// lease's end between the hold's Acquire and the moment its holder was
// told.
func (h *History) Release(ctx context.Context, hold *Hold, l Lock) error {
	hold.Released = time.Now()
	if lg, ok := l.(Losing); ok {
		if at, _ := lg.LostAt(); !at.IsZero() {
			hold.Lost = at
		}
	}
	err := l.Release(ctx)
	hold.ReleaseAt = time.Now()
	op := Op{Who: hold.Who, Kind: OpRelease, Outcome: Done, Call: since(hold.Released), Return: since(hold.ReleaseAt)}
	switch {
	case err == nil:
	case errors.Is(err, adapters.ErrLockLost):
		op.Outcome = Lost
		if hold.Lost.IsZero() {
			hold.Lost = hold.ReleaseAt
		}
	case errors.Is(err, adapters.ErrNotLocked):
		op.Kind = 0
	default:
		op.Outcome, op.Return = Unknown, pending
	}
	if op.Kind != 0 {
		h.Op(op)
	}
	h.Record(*hold)
	return err
}

// Record adds a hold its holder ended another way (Do's release), and the
// end of its lease when it was found lost (Lost is set).
func (h *History) Record(hold Hold) {
	if !hold.Lost.IsZero() {
		from := hold.Called
		if from.IsZero() {
			from = hold.Acquired
		}
		h.Op(Op{Who: hold.Who, Kind: OpLeaseEnd, Outcome: Done, Call: since(from), Return: max(since(hold.Lost), since(from))})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.holds = append(h.holds, hold)
}

// done records how a Do called at called ended: err is Do's, hold the hold
// its body recorded (nil when the body never ran). A Do that did not
// acquire is an acquisition of an unknown outcome; one whose release or
// body failed otherwise than with a lost lease, a release of an unknown
// outcome.
func (h *History) done(who string, called time.Time, hold *Hold, err error) {
	now := time.Now()
	if hold == nil {
		h.Op(Op{Who: who, Kind: OpAcquire, Outcome: Unknown, Call: since(called), Return: pending})
		return
	}
	hold.ReleaseAt = now
	op := Op{Who: who, Kind: OpRelease, Outcome: Done, Call: since(hold.Released), Return: since(now)}
	switch {
	case err == nil:
	case errors.Is(err, adapters.ErrLockLost):
		op.Outcome = Lost
		hold.Lost = now
	default:
		op.Outcome, op.Return = Unknown, pending
	}
	h.Op(op)
	h.Record(*hold)
}

// Op records an operation made another way than through the History's
// methods (its Client is set by Ops).
func (h *History) Op(op Op) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, op)
}

// Ops returns the operations recorded, each with its Client: the index of
// its handle among the handles in the order they first appear.
func (h *History) Ops() []Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	ops := slices.Clone(h.ops)
	clients := map[string]int{}
	for i, op := range ops {
		c, ok := clients[op.Who]
		if !ok {
			c = len(clients)
			clients[op.Who] = c
		}
		ops[i].Client = c
	}
	return ops
}

// Holds returns the holds recorded, in the order they were acquired.
func (h *History) Holds() []Hold {
	h.mu.Lock()
	defer h.mu.Unlock()
	holds := slices.Clone(h.holds)
	sort.Slice(holds, func(i, j int) bool { return holds[i].Acquired.Before(holds[j].Acquired) })
	return holds
}

// Check asserts what a lock promises of its history: no two holders at
// once, by their own knowledge (each hold began after every earlier one
// ended), and tokens increasing in the order of the holds.
func (h *History) Check(t testing.TB) {
	t.Helper()
	holds := h.Holds()
	var endSoFar time.Time
	for i, hd := range holds {
		if i > 0 {
			assert.False(t, hd.Acquired.Before(endSoFar), "hold %d (%s, token %d) began %v before an earlier hold ended", i, hd.Who, hd.Token, endSoFar.Sub(hd.Acquired))
			assert.Greater(t, hd.Token, holds[i-1].Token, "hold %d (%s): tokens increase in hold order", i, hd.Who)
		}
		if hd.End().After(endSoFar) {
			endSoFar = hd.End()
		}
	}
}

// HandOvers returns, for each hold taken by another holder than the hold
// before it, the time from the previous holder's call to Release (or its
// loss) to this holder's Acquire returning; and how many holds were taken
// again by the holder that had just released.
func (h *History) HandOvers() (d []time.Duration, again int) {
	holds := h.Holds()
	for i := 1; i < len(holds); i++ {
		if holds[i].Who == holds[i-1].Who {
			again++
			continue
		}
		d = append(d, holds[i].Acquired.Sub(holds[i-1].End()))
	}
	return d, again
}

// Spread returns how many holds each holder made, least first.
func (h *History) Spread() []int {
	counts := map[string]int{}
	for _, hd := range h.Holds() {
		counts[hd.Who]++
	}
	var c []int
	for _, n := range counts {
		c = append(c, n)
	}
	slices.Sort(c)
	return c
}

// quantile returns the q-quantile of d (sorted in place).
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

// contended: n handles on one lock, each on a client of its own, take
// holds turns until total holds are made, recording the history; it is
// checked (by the holders' knowledge, and for linearizability), and the hand-over latency and the spread of holds per handle
// are logged.
func contended(t *testing.T, e Engine) {
	total := 160
	if testing.Short() {
		total = 40
	}
	for _, n := range []int{2, 8, 32} {
		t.Run(strconv.Itoa(n)+"-handles", func(t *testing.T) {
			h := ContendedHistory(t, e, n, total)
			h.Check(t)
			h.CheckLinearizable(t)
			ho, again := h.HandOvers()
			spread := h.Spread()
			for len(spread) < n {
				spread = append([]int{0}, spread...)
			}
			t.Logf("%d handles, %d holds: %d hand-overs to another handle, median %v, p99 %v; %d taken again by the handle that released; holds per handle %s",
				n, total, len(ho), quantile(ho, 0.5).Round(10*time.Microsecond), quantile(ho, 0.99).Round(10*time.Microsecond), again, spreadText(spread))
		})
	}
}

// ContendedHistory runs n handles on one lock until total holds are made,
// and returns their history.
func ContendedHistory(t testing.TB, e Engine, n, total int) *History {
	name := Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h := &History{}
	var left sync.WaitGroup
	var mu sync.Mutex
	remaining := total
	take := func() bool {
		mu.Lock()
		defer mu.Unlock()
		remaining--
		return remaining >= 0
	}
	handles := make([]Lock, n)
	for i := range handles {
		handles[i] = e.NewLock(t, e.Addr, name, 0, 0)
		_, err := handles[i].LockedContext(ctx) // warms the client's connection
		require.NoError(t, err)
	}
	for i, l := range handles {
		left.Add(1)
		go func() {
			defer left.Done()
			who := "handle-" + strconv.Itoa(i)
			for take() {
				hold, err := h.Acquire(ctx, who, l)
				if !assert.NoError(t, err) || hold == nil {
					return
				}
				if !assert.NoError(t, h.Release(ctx, hold, l)) {
					return
				}
			}
		}()
	}
	left.Wait()
	return h
}

func spreadText(c []int) string {
	if len(c) <= 8 {
		s := make([]string, len(c))
		for i, n := range c {
			s[i] = strconv.Itoa(n)
		}
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("min %d, median %d, max %d", c[0], c[len(c)/2], c[len(c)-1])
}
