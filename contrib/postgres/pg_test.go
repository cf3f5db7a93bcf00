package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/postgres"
)

// tagged is a codec of the user's: JSON behind a version tag, to show the
// codec given is the one used.
type tagged struct{}

func (tagged) Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append([]byte("v1:"), b...), err
}

func (tagged) Unmarshal(data []byte, v any) error {
	if len(data) < 3 || string(data[:3]) != "v1:" {
		return assert.AnError
	}
	return json.Unmarshal(data[3:], v)
}

func TestEventUsesTheCodecGiven(t *testing.T) {
	srv.Need(t)
	p := newPool(t, srv.Addr)
	name := disttest.Unique(t)
	e, err := postgres.NewEvent[int](p, name, postgres.WithCodec(tagged{}))
	require.NoError(t, err)
	require.NoError(t, e.Set(7))
	var raw []byte
	require.NoError(t, p.QueryRow(context.Background(), "SELECT value FROM mixin_events WHERE key = $1", e.Key()).Scan(&raw))
	assert.Equal(t, "v1:7", string(raw))
	got, err := e.Get()
	require.NoError(t, err)
	assert.Equal(t, 7, got)

	plain, err := postgres.NewEvent[int](p, name) // JSON cannot read it
	require.NoError(t, err)
	_, err = plain.Get()
	assert.ErrorContains(t, err, "decode")
}

func TestConstructorsRefuseBadInput(t *testing.T) {
	_, err := postgres.NewLock(nil, "x")
	assert.ErrorContains(t, err, "nil pool")
	_, err = postgres.NewEvent[int](nil, "x")
	assert.ErrorContains(t, err, "nil pool")
	_, err = postgres.NewSemaphore(nil, "x", 1)
	assert.ErrorContains(t, err, "nil pool")
	assert.ErrorContains(t, postgres.Setup(context.Background(), nil), "nil pool")
	p, err := pgxpool.New(context.Background(), "host=127.0.0.1 port=1")
	require.NoError(t, err)
	defer p.Close()
	_, err = postgres.NewLock(p, "")
	assert.ErrorContains(t, err, "empty name")
	_, err = postgres.NewEvent[int](p, "")
	assert.ErrorContains(t, err, "empty name")
}

// TestSetupMakesTheSchemaAndItsTables: Setup with a schema whose name needs
// quoting creates it and the tables; locks and events in it work, apart
// from those of the default schema.
func TestSetupMakesTheSchemaAndItsTables(t *testing.T) {
	srv.Need(t)
	p := newPool(t, srv.Addr)
	ctx := context.Background()
	schema := `mixin "test" 'schema'`
	t.Cleanup(func() { _, _ = p.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE") })
	require.NoError(t, postgres.Setup(ctx, p, postgres.WithSchema(schema)))
	require.NoError(t, postgres.Setup(ctx, p, postgres.WithSchema(schema)), "a second Setup finds everything made")
	var tables []string
	rows, err := p.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1", schema)
	require.NoError(t, err)
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	assert.Equal(t, []string{postgres.EventsTable, postgres.LocksTable, postgres.WaitersTable}, tables)

	name := disttest.Unique(t)
	in, err := postgres.NewLock(p, name, postgres.WithSchema(schema))
	require.NoError(t, err)
	out, err := postgres.NewLock(p, name)
	require.NoError(t, err)
	ok, err := in.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = out.TryAcquire(ctx)
	require.NoError(t, err)
	assert.True(t, ok, "the same name in another schema is another lock")
	require.NoError(t, in.Release(ctx))
	require.NoError(t, out.Release(ctx))
	ev, err := postgres.NewEvent[string](p, name, postgres.WithSchema(schema))
	require.NoError(t, err)
	require.NoError(t, ev.Set("x"))
	got, err := ev.Get()
	require.NoError(t, err)
	assert.Equal(t, "x", got)
}

// TestSetupsOnFirstUseRaceSafely: many handles in a schema nobody has set up
// make their first calls at once: the tables are made once, every call
// works.
func TestSetupsOnFirstUseRaceSafely(t *testing.T) {
	srv.Need(t)
	p := newPool(t, srv.Addr)
	ctx := context.Background()
	schema := "mixin_first_use"
	t.Cleanup(func() { _, _ = p.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool := newPool(t, srv.Addr)
			if i%2 == 0 {
				l, err := postgres.NewLock(pool, disttest.Unique(t), postgres.WithSchema(schema))
				require.NoError(t, err)
				_, err = l.LockedContext(ctx)
				assert.NoError(t, err)
				return
			}
			e, err := postgres.NewEvent[int](pool, disttest.Unique(t), postgres.WithSchema(schema))
			require.NoError(t, err)
			assert.NoError(t, e.Set(i))
		}()
	}
	wg.Wait()
}

// TestLongNamesFitTheChannelLimit: names far beyond PostgreSQL's 63-byte
// identifiers lock, release and wake as short ones do.
func TestLongNamesFitTheChannelLimit(t *testing.T) {
	srv.Need(t)
	name := disttest.Unique(t) + "/" + strings.Repeat("ü", 500)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := postgres.NewLock(newPool(t, srv.Addr), name)
	require.NoError(t, err)
	b, err := postgres.NewLock(newPool(t, srv.Addr), name)
	require.NoError(t, err)
	ok, err := a.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := b.Acquire(ctx)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, a.Release(ctx))
	require.NoError(t, <-done)
	require.NoError(t, b.Release(ctx))

	setter, err := postgres.NewEvent[string](newPool(t, srv.Addr), name)
	require.NoError(t, err)
	waiter, err := postgres.NewEvent[string](newPool(t, srv.Addr), name)
	require.NoError(t, err)
	got := make(chan string, 1)
	go func() {
		v, err := waiter.WaitForNext(ctx)
		assert.NoError(t, err)
		got <- v
	}()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, setter.Set("long"))
	assert.Equal(t, "long", <-got)
}

// TestAWaitingAcquireIsWokenByTheRelease: with the default lease (10 s) a
// waiter looks again on its own only when the holder's lease could have run
// out; it takes the lock well before that, woken by the release.
func TestAWaitingAcquireIsWokenByTheRelease(t *testing.T) {
	srv.Need(t)
	name := disttest.Unique(t)
	holder, err := postgres.NewLock(newPool(t, srv.Addr), name)
	require.NoError(t, err)
	waiter, err := postgres.NewLock(newPool(t, srv.Addr), name)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 3 {
		ok, err := holder.Acquire(ctx)
		require.True(t, ok)
		require.NoError(t, err)
		acquired := make(chan time.Time, 1)
		go func() {
			ok, err := waiter.Acquire(ctx)
			assert.True(t, ok)
			assert.NoError(t, err)
			acquired <- time.Now()
		}()
		time.Sleep(200 * time.Millisecond) // the waiter waits
		released := time.Now()
		require.NoError(t, holder.Release(ctx))
		took := (<-acquired).Sub(released)
		assert.Less(t, took, postgres.DefaultLease/2, "the waiter was woken by the release")
		t.Logf("release to the waiter's acquire: %v", took.Round(10*time.Microsecond))
		require.NoError(t, waiter.Release(ctx))
	}
}

// counting counts the acquire statements a pool's connections run.
type counting struct{ n atomic.Int64 }

func (c *counting) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.HasPrefix(d.SQL, "WITH taken AS") {
		c.n.Add(1)
	}
	return ctx
}

func (c *counting) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestAReleaseWakesOneWaiterOfAProcess: eight handles on one pool wait for a
// lock another pool holds; its release wakes one of them, which takes the
// lock; the seven others do not try again.
func TestAReleaseWakesOneWaiterOfAProcess(t *testing.T) {
	srv.Need(t)
	name := disttest.Unique(t)
	cfg, err := pgxpool.ParseConfig(connString(srv.Addr))
	require.NoError(t, err)
	tries := &counting{}
	cfg.ConnConfig.Tracer = tries
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	defer p.Close()
	holder, err := postgres.NewLock(newPool(t, srv.Addr), name)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, err := holder.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)

	const waiters = 8
	acquired := make(chan *postgres.Lock, waiters)
	wctx, wcancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range waiters {
		w, err := postgres.NewLock(p, name)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := w.Acquire(wctx); ok {
				acquired <- w
			}
		}()
	}
	// Every waiter waits: each is in the queue and has made its tries (three,
	// or more while its listener is not up), and no try has come for 300 ms.
	admin := newPool(t, srv.Addr)
	require.Eventually(t, func() bool { return liveWaiters(t, admin, name) == waiters && tries.n.Load() >= 3*waiters },
		20*time.Second, 10*time.Millisecond)
	var before int64
	require.Eventually(t, func() bool {
		n := tries.n.Load()
		settled := n == before
		before = n
		return settled
	}, 20*time.Second, 300*time.Millisecond)
	require.NoError(t, holder.Release(ctx))
	first := <-acquired
	time.Sleep(300 * time.Millisecond) // what else the release set off
	woken := tries.n.Load() - before
	assert.Less(t, woken, int64(waiters/2), "the release woke one waiter, not all %d", waiters)
	t.Logf("%d waiters on one pool: the release led to %d tries", waiters, woken)
	require.NoError(t, first.Release(ctx))
	second := <-acquired // the release passes it on
	require.NoError(t, second.Release(ctx))
	wcancel()
	wg.Wait()
}

// TestWaitersOutliveTheirListenersEnd: the server ends the listening
// connection of the waiters' pool (pg_terminate_backend) while a lock's
// waiter and an event's waiter wait, and the release and the Set come
// before it is back: both waiters are woken once it is, long before the
// holder's lease (10 s) would have let the lock's waiter look again.
func TestWaitersOutliveTheirListenersEnd(t *testing.T) {
	srv.Need(t)
	name := disttest.Unique(t)
	waiters, other, admin := newPool(t, srv.Addr), newPool(t, srv.Addr), newPool(t, srv.Addr)
	holder, err := postgres.NewLock(other, name)
	require.NoError(t, err)
	waiter, err := postgres.NewLock(waiters, name)
	require.NoError(t, err)
	setter, err := postgres.NewEvent[string](other, name)
	require.NoError(t, err)
	follower, err := postgres.NewEvent[string](waiters, name)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, err := holder.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)

	acquired := make(chan error, 1)
	go func() {
		_, err := waiter.Acquire(ctx)
		acquired <- err
	}()
	got := make(chan string, 1)
	go func() {
		v, err := follower.WaitForNext(ctx)
		assert.NoError(t, err)
		got <- v
	}()
	// Both wait once the listening connection listens to both channels.
	require.Eventually(t, func() bool {
		var n int
		err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'`).Scan(&n)
		return err == nil && n > 0
	}, 10*time.Second, 10*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	var ended int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()) AS t`).Scan(&ended))
	require.Positive(t, ended)
	released := time.Now()
	require.NoError(t, holder.Release(ctx))
	require.NoError(t, setter.Set("meanwhile"))
	require.NoError(t, <-acquired)
	assert.Equal(t, "meanwhile", <-got)
	took := time.Since(released)
	assert.Less(t, took, postgres.DefaultLease/2, "woken, not left to the holder's lease")
	t.Logf("both woken %v after the listening connection was ended", took.Round(time.Millisecond))
	require.NoError(t, waiter.Release(ctx))
}

// TestRefreshesKeepTheToken: a hold whose lease (600 ms) is refreshed
// several times keeps its token, on the handle and in the row, while the
// row's lease end moves.
func TestRefreshesKeepTheToken(t *testing.T) {
	srv.Need(t)
	p := newPool(t, srv.Addr)
	name := disttest.Unique(t)
	l, err := postgres.NewLock(p, name, postgres.WithLease(600*time.Millisecond))
	require.NoError(t, err)
	ctx := context.Background()
	ok, err := l.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)
	token, _ := l.Token()
	row := func() (tok int64, ends time.Time) {
		require.NoError(t, p.QueryRow(ctx, "SELECT token, expires_at FROM mixin_locks WHERE key = 'mixin/' || replace(replace($1, '%', '%25'), '/', '%2F')", name).Scan(&tok, &ends))
		return tok, ends
	}
	first, firstEnd := row()
	assert.Equal(t, token, first)
	time.Sleep(1200 * time.Millisecond) // about six refreshes
	select {
	case <-l.Lost():
		t.Fatal("the lease was lost while its refreshes could run")
	default:
	}
	now, nowEnd := row()
	assert.Equal(t, token, now, "the row's token")
	tok, _ := l.Token()
	assert.Equal(t, token, tok, "the handle's token")
	assert.True(t, nowEnd.After(firstEnd), "the lease's end moved: %v, then %v", firstEnd, nowEnd)
	require.NoError(t, l.Release(ctx))
}

// TestAnyNameNamesAnAdvisoryLockAndAnEvent: names PostgreSQL would refuse
// as text (NUL bytes, bytes that are not UTF-8) name an advisory lock that
// is taken and given back, and an event that is set and read (the battery's
// AnyStringNamesALock does the lease lock). Before, every statement failed,
// and Acquire waited for its ctx to end.
func TestAnyNameNamesAnAdvisoryLockAndAnEvent(t *testing.T) {
	srv.Need(t)
	p := newPool(t, srv.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := disttest.Unique(t)
	for i, n := range []string{"\xff\xfe", "a\x00b", string(make([]byte, 4096)), "x\xff", "x%FF"} {
		name := base + n
		want := fmt.Sprint("value ", i) // JSON would write the name's bad bytes as U+FFFD
		adv, err := postgres.NewAdvisoryLock(p, name)
		require.NoError(t, err)
		ok, err := adv.Acquire(ctx)
		require.NoError(t, err, "%q: advisory", n)
		require.True(t, ok)
		require.NoError(t, adv.Release(ctx))

		ev, err := postgres.NewEvent[string](p, name)
		require.NoError(t, err)
		require.NoError(t, ev.Set(want), "%q: event", n)
		v, err := ev.Get()
		require.NoError(t, err)
		assert.Equal(t, want, v, "%q: its own value", n)
	}
}
