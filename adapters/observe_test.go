package adapters_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
)

// recorder is an Observer that keeps every observation.
type recorder struct {
	mu  sync.Mutex
	obs []adapters.Observation
}

func (r *recorder) Observe(_ context.Context, e adapters.Observation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.obs = append(r.obs, e)
}

// of returns the observations of op, in order.
func (r *recorder) of(op adapters.Op) []adapters.Observation {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []adapters.Observation
	for _, e := range r.obs {
		if e.Op == op {
			out = append(out, e)
		}
	}
	return out
}

// one requires exactly one observation of op and returns it.
func (r *recorder) one(t *testing.T, op adapters.Op) adapters.Observation {
	t.Helper()
	got := r.of(op)
	require.Len(t, got, 1, "observations of %s", op)
	return got[0]
}

const hold = 20 * time.Millisecond

func TestObserverSeesLockWaitAndHold(t *testing.T) {
	rec := &recorder{}
	l, err := adapters.NewLock(&sync.Mutex{}, adapters.WithObserver(rec), adapters.WithName("orders"))
	require.NoError(t, err)
	ctx := context.Background()

	ok, err := l.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)
	acquired := make(chan time.Duration)
	go func() {
		start := time.Now()
		ok, _ := l.Acquire(ctx) // waits for the first hold
		assert.True(t, ok)
		waited := time.Since(start)
		assert.NoError(t, l.Release(ctx))
		acquired <- waited
	}()
	time.Sleep(hold)
	assert.Equal(t, int64(1), l.Stats().WaitingNow)
	require.NoError(t, l.Release(ctx))
	waited := <-acquired

	acq := rec.of(adapters.OpAcquire)
	require.Len(t, acq, 2)
	assert.Len(t, rec.of(adapters.OpWait), 1, "the second caller waited")
	assert.False(t, acq[0].Waited)
	assert.True(t, acq[1].Waited)
	assert.Equal(t, "lock", acq[0].Kind)
	assert.Equal(t, "orders", acq[0].Name)
	assert.Equal(t, adapters.OutcomeOK, acq[0].Outcome)
	assert.Zero(t, acq[0].Duration, "a TryLock that succeeds does not wait")
	assert.Equal(t, adapters.OutcomeOK, acq[1].Outcome)
	// The wait is timed by the proxy's clock from inside Acquire: the
	// caller's clock around the call bounds it from above only.
	assert.Positive(t, acq[1].Duration)
	assert.LessOrEqual(t, acq[1].Duration, waited)

	rel := rec.of(adapters.OpRelease)
	require.Len(t, rel, 2)
	// (the second holder may report its release before the first does)
	longest := max(rel[0].Duration, rel[1].Duration)
	assert.Equal(t, adapters.OutcomeOK, rel[0].Outcome)
	assert.Equal(t, adapters.OutcomeOK, rel[1].Outcome)
	assert.GreaterOrEqual(t, longest, hold, "the first hold lasted the sleep")

	s := l.Stats()
	assert.Equal(t, int64(2), s.Acquires)
	assert.Equal(t, int64(1), s.Waits)
	assert.Equal(t, int64(1), s.AcquiresFast)
	assert.GreaterOrEqual(t, s.WaitTime, acq[1].Duration)
	assert.Equal(t, s.MaxWait, acq[1].Duration)
	assert.GreaterOrEqual(t, s.HoldTime, hold)
	assert.Zero(t, s.WaitingNow)
	assert.Zero(t, s.HeldNow)
}

func TestObserverSeesCtxEndedAcquire(t *testing.T) {
	rec := &recorder{}
	mu := &sync.Mutex{}
	l, err := adapters.NewLock(mu, adapters.WithObserver(rec))
	require.NoError(t, err)
	mu.Lock() // held by someone else
	defer mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), hold)
	defer cancel()
	called := time.Now()
	ok, err := l.Acquire(ctx)
	around := time.Since(called)
	assert.False(t, ok)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	e := rec.one(t, adapters.OpAcquire)
	assert.Equal(t, adapters.OutcomeCtxEnded, e.Outcome)
	assert.Equal(t, "ctx_ended", e.Outcome.String())
	// Timed from inside Acquire: the clock around the call bounds it from
	// above; nothing read outside bounds it from below.
	assert.Positive(t, e.Duration)
	assert.LessOrEqual(t, e.Duration, around)
	assert.ErrorIs(t, e.Err, context.DeadlineExceeded)
	s := l.Stats()
	assert.Equal(t, int64(1), s.CtxEnded)
	assert.Zero(t, s.Acquires)
	assert.Zero(t, s.WaitingNow)
	assert.Zero(t, s.HeldNow)
}

// sayNo is a lock whose Acquire says false, fails, or panics.
type sayNo struct{ mode string }

func (s *sayNo) Acquire(context.Context) (bool, error) {
	switch s.mode {
	case "error":
		return false, errors.New("backend down")
	case "panic":
		panic("acquire exploded")
	}
	return false, nil
}
func (s *sayNo) Release(context.Context) error { return nil }
func (s *sayNo) Locked() bool                  { return false }

func TestObserverSeesRefusedFailedAndPanickedAcquires(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want adapters.Outcome
	}{{"no", adapters.OutcomeRefused}, {"error", adapters.OutcomeError}, {"panic", adapters.OutcomePanicked}} {
		t.Run(tc.mode, func(t *testing.T) {
			rec := &recorder{}
			l, err := adapters.NewLock(&sayNo{tc.mode}, adapters.WithObserver(rec))
			require.NoError(t, err)
			func() {
				defer func() { _ = recover() }()
				_ = l.Do(context.Background(), func(context.Context) error { return nil })
			}()
			assert.Equal(t, tc.want, rec.one(t, adapters.OpAcquire).Outcome)
			assert.Empty(t, rec.of(adapters.OpDo), "no body ran")
			refused, errs := int64(0), int64(1)
			if tc.mode == "no" {
				refused, errs = 1, 0
			}
			s := l.Stats()
			assert.Equal(t, refused, s.Refused)
			assert.Equal(t, errs, s.Errors)
		})
	}
}

func TestObserverSeesPanickingDoBody(t *testing.T) {
	rec := &recorder{}
	l, err := adapters.NewLock(&sync.Mutex{}, adapters.WithObserver(rec))
	require.NoError(t, err)
	assert.PanicsWithValue(t, "boom", func() {
		_ = l.Do(context.Background(), func(context.Context) error {
			time.Sleep(hold)
			panic("boom")
		})
	})
	do := rec.one(t, adapters.OpDo)
	assert.Equal(t, adapters.OutcomePanicked, do.Outcome)
	assert.GreaterOrEqual(t, do.Duration, hold)
	rel := rec.one(t, adapters.OpRelease)
	assert.Equal(t, adapters.OutcomeOK, rel.Outcome, "the lock is released all the same")
	assert.GreaterOrEqual(t, rel.Duration, hold)
	assert.False(t, l.Locked())
	assert.Zero(t, l.Stats().HeldNow)
}

func TestObserverSeesDoBodyError(t *testing.T) {
	rec := &recorder{}
	l, err := adapters.NewLock(&sync.Mutex{}, adapters.WithObserver(rec))
	require.NoError(t, err)
	boom := errors.New("boom")
	require.ErrorIs(t, l.Do(context.Background(), func(context.Context) error { return boom }), boom)
	do := rec.one(t, adapters.OpDo)
	assert.Equal(t, adapters.OutcomeError, do.Outcome)
	assert.ErrorIs(t, do.Err, boom)
}

func TestObserverSeesOwnerLockRefusal(t *testing.T) {
	rec := &recorder{}
	o, err := adapters.NewOwnerLock(adapters.NewOwnerMutex(), adapters.WithObserver(rec))
	require.NoError(t, err)
	owner, other := adapters.WithTask(context.Background()), adapters.WithTask(context.Background())
	ok, err := o.Acquire(owner)
	require.True(t, ok)
	require.NoError(t, err)
	require.ErrorIs(t, o.Release(other), adapters.ErrNotOwner)
	require.NoError(t, o.Release(owner))

	rel := rec.of(adapters.OpRelease)
	require.Len(t, rel, 2)
	assert.Equal(t, "owner-lock", rel[0].Kind)
	assert.Equal(t, adapters.OutcomeNotOwner, rel[0].Outcome)
	assert.Equal(t, adapters.OutcomeOK, rel[1].Outcome)
	s := o.Stats()
	assert.Equal(t, int64(1), s.NotOwner)
	assert.Equal(t, int64(1), s.Acquires)
	assert.Zero(t, s.HeldNow)
}

func TestObserverSeesLostLease(t *testing.T) {
	rec := &recorder{}
	l := newLeased()
	proxy, err := adapters.NewLock(l, adapters.WithObserver(rec))
	require.NoError(t, err)
	err = proxy.Do(context.Background(), func(ctx context.Context) error {
		time.Sleep(hold)
		l.lose()
		<-ctx.Done()
		return ctx.Err()
	})
	require.ErrorIs(t, err, adapters.ErrLockLost)

	lost := rec.one(t, adapters.OpLost)
	assert.Equal(t, adapters.OutcomeLost, lost.Outcome)
	assert.GreaterOrEqual(t, lost.Duration, hold, "held that long when lost")
	rel := rec.one(t, adapters.OpRelease)
	assert.Equal(t, adapters.OutcomeLost, rel.Outcome)
	assert.ErrorIs(t, rel.Err, adapters.ErrLockLost)
	s := proxy.Stats()
	assert.Equal(t, int64(1), s.Lost)
	assert.Zero(t, s.HeldNow)
}

func TestLockWithoutObserverHasZeroStats(t *testing.T) {
	l, err := adapters.NewLock(&sync.Mutex{})
	require.NoError(t, err)
	require.NoError(t, l.Do(context.Background(), func(context.Context) error { return nil }))
	assert.Equal(t, adapters.LockStats{}, l.Stats())

	s, err := adapters.NewLock(&sync.Mutex{}, adapters.WithStats())
	require.NoError(t, err)
	require.NoError(t, s.Do(context.Background(), func(context.Context) error { return nil }))
	assert.Equal(t, int64(1), s.Stats().Acquires)
}

// closer is a context manager whose Enter and Exit take a while and whose
// Exit suppresses when told to.
type closer struct{ suppress bool }

func (c *closer) Enter(context.Context) (int, error) { time.Sleep(hold); return 7, nil }
func (c *closer) Exit(_ context.Context, err error) (bool, error) {
	time.Sleep(hold)
	return c.suppress, nil
}

func TestObserverSeesContextEnterExitAndDo(t *testing.T) {
	rec := &recorder{}
	c, err := adapters.NewContext[int](&closer{suppress: true}, adapters.WithObserver(rec), adapters.WithName("db"))
	require.NoError(t, err)
	boom := errors.New("boom")
	require.NoError(t, c.Do(context.Background(), func(context.Context, int) error { return boom }))

	enter := rec.one(t, adapters.OpEnter)
	assert.Equal(t, "context", enter.Kind)
	assert.Equal(t, "db", enter.Name)
	assert.Equal(t, adapters.OutcomeOK, enter.Outcome)
	assert.GreaterOrEqual(t, enter.Duration, hold)
	exit := rec.one(t, adapters.OpExit)
	assert.Equal(t, adapters.OutcomeSuppressed, exit.Outcome)
	assert.GreaterOrEqual(t, exit.Duration, hold)
	assert.Equal(t, adapters.OutcomeError, rec.one(t, adapters.OpDo).Outcome)
}

func TestObserverSeesContextDoPanic(t *testing.T) {
	rec := &recorder{}
	c, err := adapters.NewContext[int](&closer{}, adapters.WithObserver(rec))
	require.NoError(t, err)
	assert.Panics(t, func() {
		_ = c.Do(context.Background(), func(context.Context, int) error { panic("boom") })
	})
	assert.Equal(t, adapters.OutcomePanicked, rec.one(t, adapters.OpDo).Outcome)
	assert.Equal(t, adapters.OutcomeOK, rec.one(t, adapters.OpExit).Outcome, "Exit ran and did not fail")
}

func TestObserverSeesExecContext(t *testing.T) {
	rec := &recorder{}
	x, err := adapters.NewExecContext[int](&closer{}, adapters.WithObserver(rec))
	require.NoError(t, err)
	ctx := context.Background()
	v, err := x.Enter(ctx)
	require.NoError(t, err)
	assert.Equal(t, 7, v)
	require.NoError(t, x.Exit(ctx, nil))
	enter := rec.one(t, adapters.OpEnter)
	assert.Equal(t, "exec-context", enter.Kind)
	assert.GreaterOrEqual(t, enter.Duration, hold)
	assert.GreaterOrEqual(t, rec.one(t, adapters.OpExit).Duration, hold)

	// An Enter whose caller gives up: ctx ended.
	short, cancel := context.WithTimeout(ctx, hold/4)
	defer cancel()
	_, err = x.Enter(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, adapters.OutcomeCtxEnded, rec.of(adapters.OpEnter)[1].Outcome)
	time.Sleep(3 * hold) // the abandoned Enter and its Exit finish
}

func TestObserverSeesAwaitAndEvent(t *testing.T) {
	rec := &recorder{}
	ev, err := adapters.NewEvent[int](adapters.NewValueEvent[int](), adapters.WithObserver(rec))
	require.NoError(t, err)
	set := make(chan struct{})
	go func() {
		defer close(set)
		time.Sleep(hold)
		ev.Set(3)
	}()
	called := time.Now()
	v, err := ev.Wait(context.Background())
	around := time.Since(called)
	require.NoError(t, err)
	assert.Equal(t, 3, v)
	<-set // Set is reported once it returns, maybe after the wake-up
	wake := rec.one(t, adapters.OpAwait)
	assert.Equal(t, "event", wake.Kind)
	assert.Positive(t, wake.Duration)
	assert.LessOrEqual(t, wake.Duration, around, "timed inside the call")
	assert.Equal(t, adapters.OutcomeOK, rec.one(t, adapters.OpSet).Outcome)

	var wg sync.WaitGroup
	wg.Add(1)
	a, err := adapters.NewAwaitable[any](&wg, adapters.WithObserver(rec))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), hold)
	defer cancel()
	called = time.Now()
	_, err = a.Await(ctx)
	around = time.Since(called)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	aw := rec.of(adapters.OpAwait)
	require.Len(t, aw, 2)
	assert.Equal(t, "awaitable", aw[1].Kind)
	assert.Equal(t, adapters.OutcomeCtxEnded, aw[1].Outcome)
	assert.Positive(t, aw[1].Duration)
	assert.LessOrEqual(t, aw[1].Duration, around, "timed inside the call")
	wg.Done()
}

func TestObserverSeesGroupTasks(t *testing.T) {
	rec := &recorder{}
	pool := adapters.NewPool(adapters.WithSize(1), adapters.WithObserver(rec))
	defer pool.Close()
	g, err := adapters.NewGroup(nil, adapters.WithExecutor(pool), adapters.ContinueOnError(), adapters.WithObserver(rec))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, g.Enter(ctx))
	boom := errors.New("boom")
	var firstEnded time.Time // read after Exit, which waits for the task
	g.Go(func(context.Context) error { time.Sleep(hold); firstEnded = time.Now(); return nil })
	g.Go(func(context.Context) error { return boom })
	queued := time.Now() // the second task is queued by now
	g.Go(func(context.Context) error { panic("task exploded") })
	var pe *adapters.PanicError
	func() {
		defer func() {
			r := recover()
			pe, _ = r.(*adapters.PanicError)
		}()
		_ = g.Exit(ctx, nil)
	}()
	require.NotNil(t, pe, "the panic comes back from Exit")

	starts := rec.of(adapters.OpTaskStart)
	require.Len(t, starts, 3)
	for _, s := range starts {
		assert.Equal(t, "group", s.Kind)
		assert.NotZero(t, s.Task)
	}
	// The second task, queued by then, could not start before the first
	// ended: its wait is at least the time between.
	assert.GreaterOrEqual(t, starts[1].Duration, firstEnded.Sub(queued), "the second task waited for the pool's one place")
	ends := map[adapters.Outcome]int{}
	for _, e := range rec.of(adapters.OpTaskEnd) {
		ends[e.Outcome]++
	}
	assert.Equal(t, map[adapters.Outcome]int{adapters.OutcomeOK: 1, adapters.OutcomeError: 1, adapters.OutcomePanicked: 1}, ends)
	s := g.Stats()
	assert.Equal(t, int64(3), s.Started)
	assert.Zero(t, s.Running)
	assert.Equal(t, int64(1), s.Failed)
	assert.Equal(t, int64(1), s.Panicked)
	assert.GreaterOrEqual(t, s.QueueWait, hold/2)
	assert.GreaterOrEqual(t, s.RunTime, hold)

	queue := rec.of(adapters.OpQueue)
	require.Len(t, queue, 3)
	assert.Equal(t, "pool", queue[0].Kind)
	require.NoError(t, pool.Wait(ctx))
	ps := pool.Stats()
	assert.Equal(t, int64(3), ps.Started)
	assert.Zero(t, ps.Panicked, "the group captured its task's panic")
	assert.Zero(t, ps.Running)
}

func TestObserversFanOut(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	assert.Nil(t, adapters.Observers(nil, nil))
	l, err := adapters.NewLock(&sync.Mutex{}, adapters.WithObserver(a), adapters.WithObserver(b))
	require.NoError(t, err)
	require.NoError(t, l.Do(context.Background(), func(context.Context) error { return nil }))
	assert.Len(t, a.of(adapters.OpAcquire), 1)
	assert.Len(t, b.of(adapters.OpAcquire), 1)
	assert.Equal(t, "acquire", adapters.OpAcquire.String())
	assert.Equal(t, "task_end", adapters.OpTaskEnd.String())
}
