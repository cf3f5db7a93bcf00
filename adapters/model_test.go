package adapters_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
)

// Model-based random tests: goroutines run random sequences of operations
// against a proxy over several underlying values; every operation is
// recorded in one history (in the order a global sequence gives it) and the
// history is checked against a small reference model of the kind. A failure
// prints the seed; MIXIN_MODEL_SEED=<seed> replays the same sequences of
// operations (the interleaving is the scheduler's).

// modelSeed returns the seed of a run, and how to replay it.
func modelSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("MIXIN_MODEL_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "MIXIN_MODEL_SEED must be a number")
		return seed
	}
	return uint64(time.Now().UnixNano())
}

// history is the recorded operations of a run, in sequence order.
type history struct {
	seq atomic.Int64
	mu  sync.Mutex
	ops []op
}

// op is one operation: what, by whom, with which value, between which
// points of the sequence it ran.
type op struct {
	what       string
	who        int
	v          int
	start, end int64
	err        error
}

func (h *history) now() int64 { return h.seq.Add(1) }

func (h *history) add(o op) {
	h.mu.Lock()
	h.ops = append(h.ops, o)
	h.mu.Unlock()
}

// randomCtxFor returns a live ctx that never ends, one that ends within a
// few milliseconds, or one that has ended.
func randomCtxFor(r *rand.Rand, base context.Context) (context.Context, context.CancelFunc) {
	switch r.IntN(4) {
	case 0:
		return base, func() {}
	case 1:
		ctx, cancel := context.WithCancel(base)
		cancel()
		return ctx, cancel
	}
	return context.WithTimeout(base, time.Duration(r.IntN(3000))*time.Microsecond)
}

// lockSubject is a lock the model drives: a fresh proxy and whether the
// value is held, read from the value itself.
type lockSubject struct {
	name  string
	owner bool // an owner lock: a release by a non-holder is refused
	make  func() (*adapters.Lock, func() bool)
}

func lockSubjects() []lockSubject {
	return []lockSubject{
		{"*sync.Mutex", false, func() (*adapters.Lock, func() bool) {
			var mu sync.Mutex
			l, _ := adapters.NewLock(&mu)
			return l, func() bool {
				if mu.TryLock() {
					mu.Unlock()
					return false
				}
				return true
			}
		}},
		{"canonical, refusing ended ctxs", false, func() (*adapters.Lock, func() bool) {
			v := &rpcLock{sem: make(chan struct{}, 1)}
			l, _ := adapters.NewLock(v)
			return l, v.Locked
		}},
		{"ctx locker", false, func() (*adapters.Lock, func() bool) {
			v := newFlakyCtxLocker()
			l, _ := adapters.NewLock(v)
			return l, func() bool { return len(v.sem) == 1 }
		}},
		{"ctx locker whose Unlock fails one time in three", false, func() (*adapters.Lock, func() bool) {
			v := &sometimesCtxLocker{flakyCtxLocker: *newFlakyCtxLocker()}
			l, _ := adapters.NewLock(v)
			return l, func() bool { return len(v.sem) == 1 }
		}},
		{"sync.Locker with TryLock() (bool, error)", false, func() (*adapters.Lock, func() bool) {
			v := &errTryLocker{}
			l, _ := adapters.NewLock(v)
			return l, func() bool {
				if v.Mutex.TryLock() {
					v.Mutex.Unlock()
					return false
				}
				return true
			}
		}},
		{"OwnerMutex", true, func() (*adapters.Lock, func() bool) {
			m := adapters.NewOwnerMutex()
			o, _ := adapters.NewOwnerLock(m)
			return o.AsLock(), m.Locked
		}},
		{"OwnerMutex, watched", true, func() (*adapters.Lock, func() bool) {
			m := adapters.NewOwnerMutex()
			w := adapters.NewWatchdog(time.Hour, nil)
			l, _ := w.Watch(m)
			return l, m.Locked
		}},
	}
}

// sometimesCtxLocker's Unlock fails one time in three, with a network error.
type sometimesCtxLocker struct {
	flakyCtxLocker
	n atomic.Int32
}

func (l *sometimesCtxLocker) Unlock(ctx context.Context) error {
	if l.n.Add(1)%3 == 0 {
		return errNet
	}
	return l.flakyCtxLocker.Unlock(ctx)
}

// checkLock checks a lock history: one holder at a time, by the holders' own
// knowledge; a release only by the holder; a refused release leaves the
// holder holding.
func checkLock(ops []op) error {
	holder := -1
	for _, o := range ops {
		switch o.what {
		case "acquired", "kept":
			if holder >= 0 {
				return fmt.Errorf("at %d: goroutine %d acquired while %d held", o.start, o.who, holder)
			}
			holder = o.who
		case "release":
			if holder != o.who {
				return fmt.Errorf("at %d: goroutine %d released while %d held", o.start, o.who, holder)
			}
			holder = -1
		case "refused":
			if holder == o.who {
				return fmt.Errorf("at %d: the holder %d was refused its own release: %v", o.start, o.who, o.err)
			}
		}
	}
	return nil
}

func TestModelLock(t *testing.T) {
	seed := modelSeed(t)
	subjects := lockSubjects()
	d := stressFor(t) / time.Duration(2*len(subjects))
	total := 0
	for i := range 2 * len(subjects) {
		si, s, observed := i/2, subjects[i/2], i%2 == 1
		name := s.name
		if observed {
			name += ", observed"
		}
		t.Run(name, func(t *testing.T) {
			l, held := s.make()
			// Figures as invariants: an observed lock's Stats and the
			// observer's stream must add up to what its callers saw.
			var seen callerCounts
			stream := &opTally{}
			if observed {
				require.True(t, adapters.AttachObserver(l, stream, ""))
			}
			var h history
			deadline := time.Now().Add(d)
			var wg sync.WaitGroup
			var failures atomic.Int32
			fail := func(format string, args ...any) {
				failures.Add(1)
				t.Errorf(format+" (replay: MIXIN_MODEL_SEED=%d)", append(args, seed)...)
			}
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(seed, uint64(si*100+g)))
					base := adapters.WithTask(context.Background())
					holding := false
					for time.Now().Before(deadline) && failures.Load() == 0 {
						ctx, cancel := randomCtxFor(r, base)
						switch {
						case holding && r.IntN(4) == 0:
							if !l.Locked() {
								fail("goroutine %d holds the lock, Locked says free", g)
							}
						case holding:
							h.add(op{what: "release", who: g, start: h.now()})
							switch err := l.Release(ctx); {
							case errors.Is(err, errNet):
								// A failed release: still held, by this
								// goroutine, which tries again later.
								h.add(op{what: "kept", who: g, start: h.now()})
								seen.failedReleases.Add(1)
								if !l.Locked() {
									fail("a failed release left the lock held, and Locked says free")
								}
							case err != nil:
								fail("goroutine %d's release failed: %v", g, err)
								holding = false
							default:
								seen.releases.Add(1)
								holding = false
							}
						case r.IntN(3) == 0:
							ran := false
							err := l.Do(ctx, func(context.Context) error {
								ran = true
								h.add(op{what: "acquired", who: g, start: h.now()})
								time.Sleep(time.Duration(r.IntN(50)) * time.Microsecond)
								h.add(op{what: "release", who: g, start: h.now()})
								return nil
							})
							if ran {
								seen.acquires.Add(1)
							}
							if err != nil && ctx.Err() == nil && !errors.Is(err, errNet) {
								fail("Do with a live ctx failed: %v", err)
							}
							switch {
							case errors.Is(err, errNet):
								// Do's release failed: the lock is still
								// held, by Do's caller now.
								h.add(op{what: "kept", who: g, start: h.now()})
								seen.failedReleases.Add(1)
								holding = true
							case ran:
								seen.releases.Add(1)
							}
						case s.owner && r.IntN(4) == 0:
							// A release by a task that does not hold it.
							start := h.now()
							if err := l.Release(ctx); !errors.Is(err, adapters.ErrNotOwner) {
								fail("a release by non-holder %d: want ErrNotOwner, got %v", g, err)
							} else {
								h.add(op{what: "refused", who: g, start: start, err: err})
								seen.notOwner.Add(1)
							}
						default:
							ok, err := l.Acquire(ctx)
							switch {
							case ok && err == nil:
								h.add(op{what: "acquired", who: g, start: h.now()})
								seen.acquires.Add(1)
								holding = true
							case err == nil:
								fail("Acquire said false with no error")
							case ctx.Err() == nil:
								fail("Acquire with a live ctx failed: %v", err)
							}
						}
						cancel()
					}
					for holding {
						h.add(op{what: "release", who: g, start: h.now()})
						if err := l.Release(base); errors.Is(err, errNet) {
							h.add(op{what: "kept", who: g, start: h.now()})
							seen.failedReleases.Add(1)
							continue
						} else {
							assert.NoError(t, err)
						}
						seen.releases.Add(1)
						holding = false
					}
				}()
			}
			waitOrCrash(&wg, d+10*time.Second, fmt.Sprintf("lock model %s: operations still blocked 10s after the run: a lock left held by nobody (seed %d)", s.name, seed))
			if err := checkLock(h.ops); err != nil {
				t.Errorf("history of %d operations not allowed: %v (replay: MIXIN_MODEL_SEED=%d)", len(h.ops), err, seed)
			}
			assert.True(t, eventually(func() bool { return !held() }), "the lock is left held")
			if observed {
				checkFigures(t, l.Stats(), stream, &seen, seed)
			}
			total += len(h.ops)
		})
	}
	t.Logf("lock model: %d recorded operations over %d values, seed %d", total, len(subjects), seed)
}

// callerCounts is what the callers of a lock saw, counted as it happened.
type callerCounts struct {
	acquires, releases, failedReleases, notOwner atomic.Int64
}

// opTally counts an observer's stream by operation and outcome.
type opTally struct {
	mu sync.Mutex
	n  map[string]int64
}

func (o *opTally) Observe(_ context.Context, e adapters.Observation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int64{}
	}
	o.n[e.Op.String()+"/"+e.Outcome.String()]++
	if e.Waited {
		o.n["waited"]++
	}
}

func (o *opTally) get(key string) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[key]
}

// checkFigures checks a lock's Stats and its observer's stream against what
// its callers saw: every acquisition a caller got is counted once, every
// hold ended once, and nothing is held or waiting at the end.
func checkFigures(t *testing.T, s adapters.LockStats, stream *opTally, seen *callerCounts, seed uint64) {
	t.Helper()
	replay := fmt.Sprintf("replay: MIXIN_MODEL_SEED=%d", seed)
	acquires, releases := seen.acquires.Load(), seen.releases.Load()
	assert.Equal(t, acquires, s.Acquires, "Stats.Acquires against the acquisitions callers got (%s)", replay)
	assert.Equal(t, acquires, stream.get("acquire/ok"), "acquire/ok observations (%s)", replay)
	assert.Equal(t, releases, stream.get("release/ok"), "release/ok observations against the releases callers made (%s)", replay)
	assert.Equal(t, seen.failedReleases.Load(), stream.get("release/error"), "release/error observations (%s)", replay)
	assert.Equal(t, seen.notOwner.Load(), s.NotOwner, "Stats.NotOwner (%s)", replay)
	assert.Equal(t, seen.notOwner.Load(), stream.get("release/not_owner"), "release/not_owner observations (%s)", replay)
	assert.Zero(t, s.HeldNow, "Stats.HeldNow at the end (%s)", replay)
	assert.Zero(t, s.WaitingNow, "Stats.WaitingNow at the end (%s)", replay)
	assert.Equal(t, stream.get("wait/ok"), stream.get("waited"), "every wait reported ends in one acquire that says it waited (%s)", replay)
}

// waitOrCrash waits for wg; past limit it ends the test binary with why and
// every goroutine's stack, rather than hang until go test's own timeout.
func waitOrCrash(wg *sync.WaitGroup, limit time.Duration, why string) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		panic(why)
	}
}

// eventSubject is an event the model drives.
type eventSubject struct {
	name string
	make func() *adapters.Event[int]
}

func eventSubjects() []eventSubject {
	return []eventSubject{
		{"ValueEvent", func() *adapters.Event[int] {
			e, _ := adapters.NewEvent[int](adapters.NewValueEvent[int]())
			return e
		}},
		{"a user event", func() *adapters.Event[int] {
			e, _ := adapters.NewEvent[int](&userEvent{})
			return e
		}},
	}
}

// checkEvent checks an event history: a value read was set, and not yet
// overwritten or cleared for good when the read began; a wait for the next
// value got one set after it began; a wait for a value that was current
// throughout did not time out.
func checkEvent(ops []op) error {
	sets := map[int]op{}
	var writes []op // Sets and Clears
	for _, o := range ops {
		if o.what == "set" || o.what == "clear" {
			writes = append(writes, o)
			if o.what == "set" {
				sets[o.v] = o
			}
		}
	}
	// stale reports whether the write w was followed, before at, by another
	// write that completed entirely after w did.
	stale := func(w op, at int64) bool {
		for _, x := range writes {
			if x.start > w.end && x.end < at {
				return true
			}
		}
		return false
	}
	for _, o := range ops {
		switch o.what {
		case "get", "wait":
			if o.err != nil {
				if o.what == "get" && errors.Is(o.err, adapters.ErrNoValue) {
					continue // possible whenever a Clear may have come last
				}
				continue
			}
			s, ok := sets[o.v]
			if !ok {
				return fmt.Errorf("%s by %d read %d, which nobody set", o.what, o.who, o.v)
			}
			if s.start > o.end {
				return fmt.Errorf("%s by %d read %d before it was set", o.what, o.who, o.v)
			}
			if stale(s, o.start) {
				return fmt.Errorf("%s by %d read %d, overwritten before the read began", o.what, o.who, o.v)
			}
		case "next":
			if o.err != nil {
				continue
			}
			s, ok := sets[o.v]
			if !ok || s.end < o.start {
				return fmt.Errorf("WaitForNext by %d got %d, set before it began", o.who, o.v)
			}
		case "want":
			if o.err == nil {
				if s, ok := sets[o.v]; !ok || s.start > o.end {
					return fmt.Errorf("WaitForValue(%d) by %d returned before %d was set", o.v, o.who, o.v)
				}
				continue
			}
			// Timed out: wrong if the value was current for the whole wait.
			if s, ok := sets[o.v]; ok && s.end < o.start && !stale(s, o.end) && !overlapsWrite(writes, s, o) {
				return fmt.Errorf("WaitForValue(%d) by %d timed out though %d was current throughout", o.v, o.who, o.v)
			}
		}
	}
	return nil
}

// overlapsWrite reports whether another write than s may have taken effect
// after s and before o ended: one that ended after s began (a write
// concurrent with s may be ordered after it) and began before o ended.
func overlapsWrite(writes []op, s, o op) bool {
	for _, x := range writes {
		if x != s && x.end > s.start && x.start < o.end {
			return true
		}
	}
	return false
}

func TestModelEvent(t *testing.T) {
	seed := modelSeed(t)
	subjects := eventSubjects()
	d := stressFor(t) / time.Duration(len(subjects))
	for si, s := range subjects {
		t.Run(s.name, func(t *testing.T) {
			// Rounds of at most 100 ms, each a fresh event and history, so
			// that checking a history stays cheap however long the run.
			ops := 0
			for end := time.Now().Add(d); time.Now().Before(end); {
				ops += eventRound(t, s, si, seed, min(100*time.Millisecond, time.Until(end)))
			}
			t.Logf("%d operations checked", ops)
		})
	}
}

// eventRound runs one round of the event model and checks its history.
func eventRound(t *testing.T, s eventSubject, si int, seed uint64, d time.Duration) int {
	e := s.make()
	var h history
	var next atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	{
		{
			for g := range 5 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(seed, uint64(si*100+g)))
					base := context.Background()
					for time.Now().Before(deadline) {
						ctx, cancel := context.WithTimeout(base, time.Duration(1+r.IntN(3))*time.Millisecond)
						o := op{who: g, start: h.now()}
						switch r.IntN(7) {
						case 0, 1:
							o.what, o.v = "set", int(next.Add(1))
							o.err = e.TrySet(o.v)
						case 2:
							o.what = "clear"
							o.err = e.TryClear()
						case 3:
							o.what = "get"
							o.v, o.err = e.Get()
						case 4:
							o.what = "wait"
							o.v, o.err = e.Wait(ctx)
						case 5:
							o.what = "next"
							o.v, o.err = e.WaitForNext(ctx)
						default:
							o.what, o.v = "want", int(next.Load())+r.IntN(2)
							o.err = e.WaitForValue(ctx, o.v)
						}
						o.end = h.now()
						cancel()
						h.add(o)
					}
				}()
			}
			wg.Wait()
			if err := checkEvent(h.ops); err != nil {
				t.Errorf("history of %d operations not allowed: %v (replay: MIXIN_MODEL_SEED=%d)", len(h.ops), err, seed)
			}
		}
	}
	return len(h.ops)
}

// errTask is the error of the i-th task of a group model run.
type errTask int

func (e errTask) Error() string { return fmt.Sprintf("task %d failed", int(e)) }

// failed reports whether a failing task ran.
func failed(ran []atomic.Int32, fails map[int]bool) bool {
	for i := range fails {
		if ran[i].Load() > 0 {
			return true
		}
	}
	return false
}

func TestModelGroupAndPool(t *testing.T) {
	seed := modelSeed(t)
	r := rand.New(rand.NewPCG(seed, 1))
	deadline := time.Now().Add(stressFor(t))
	rounds := 0
	pool := adapters.NewPool(adapters.WithSize(3))
	defer pool.Close()
	var opts []adapters.GroupOption
	for round := 0; time.Now().Before(deadline); round++ {
		rounds++
		opts = opts[:0]
		if r.IntN(2) == 0 {
			opts = append(opts, adapters.WithExecutor(pool))
		}
		keepGoing := r.IntN(2) == 0
		if keepGoing {
			opts = append(opts, adapters.ContinueOnError())
		}
		observed := r.IntN(2) == 0
		if observed {
			opts = append(opts, adapters.WithStats())
		}
		g, err := adapters.NewGroup(nil, opts...)
		require.NoError(t, err)
		var want adapters.GroupStats // what the tasks' own records add up to
		// The same group entered again and again: every run is fresh.
		for run := range 3 {
			require.NoError(t, g.Enter(context.Background()), "round %d run %d (seed %d)", round, run, seed)
			n := 1 + r.IntN(12)
			ran := make([]atomic.Int32, n)
			fails := map[int]bool{}
			for i := range n {
				fail := r.IntN(4) == 0
				if fail {
					fails[i] = true
				}
				sleep := time.Duration(r.IntN(300)) * time.Microsecond
				g.Go(func(ctx context.Context) error {
					ran[i].Add(1)
					if fail {
						return errTask(i)
					}
					select {
					case <-time.After(sleep):
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				})
			}
			err := g.Exit(context.Background(), nil)
			assert.Zero(t, g.RunningTasks(), "tasks outlived Exit (seed %d)", seed)
			for i := range n {
				c := ran[i].Load()
				assert.LessOrEqual(t, c, int32(1), "task %d ran %d times (seed %d)", i, c, seed)
				if fails[i] && c == 1 {
					assert.ErrorIs(t, err, errTask(i), "a failing task's error is Exit's (seed %d)", seed)
				}
				if c == 0 && (keepGoing || !failed(ran, fails)) {
					// Only a sibling's failure (fail-fast) may keep a task
					// from starting without a word.
					assert.ErrorContains(t, err, "not started", "task %d neither ran nor was reported (seed %d)", i, seed)
				}
			}
			if len(fails) == 0 {
				assert.NoError(t, err, "seed %d", seed)
			}
			if observed { // figures as invariants: Stats against the tasks' records
				for i := range n {
					if ran[i].Load() == 0 {
						want.NotRun++
						continue
					}
					want.Started++
					if fails[i] {
						want.Failed++
					}
				}
				got := g.Stats()
				assert.Equal(t, [4]int64{want.Started, want.Failed, want.NotRun, 0},
					[4]int64{got.Started, got.Failed, got.NotRun, got.Running},
					"Stats (started, failed, not run, running) against the tasks' records, round %d run %d (seed %d)", round, run, seed)
				assert.Zero(t, got.Panicked, "seed %d", seed)
			}
		}
	}

	// A pool: every function a Submit accepted runs once, none it refused.
	p := adapters.NewPool(adapters.WithSize(2), adapters.WithStats())
	var accepted, ran atomic.Int64
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(10+g)))
			for range 200 {
				ctx, cancel := randomCtxFor(r, context.Background())
				if p.Submit(ctx, func() { ran.Add(1) }) == nil {
					accepted.Add(1)
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	p.Close()
	assert.ErrorIs(t, p.Submit(context.Background(), func() {}), adapters.ErrClosed)
	require.NoError(t, p.Wait(context.Background()))
	assert.Equal(t, accepted.Load(), ran.Load(), "every accepted function ran once (seed %d)", seed)
	ps := p.Stats()
	assert.Equal(t, accepted.Load(), ps.Started, "Stats.Started against the accepted submits (seed %d)", seed)
	assert.Equal(t, 800-accepted.Load()+1, ps.NotRun, "Stats.NotRun against the refused submits and the one after Close (seed %d)", seed)
	assert.Zero(t, ps.Running, "seed %d", seed)
	t.Logf("group model: %d rounds of 3 runs each; pool: %d accepted of 800 submits; seed %d", rounds, accepted.Load(), seed)
}
