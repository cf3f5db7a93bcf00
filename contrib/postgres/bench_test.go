package postgres_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/postgres"
)

// BenchmarkDo: Do through the proxy (two statements: the acquire, which
// mints the fencing token, and the release, which notifies) against a
// session advisory lock taken and given back by hand on a pinned connection
// (two statements, no lease, no token, no wake-up of other processes), a
// lease row taken and given back by hand with the same two statements the
// Lock makes (less the reading of the holder's lease on a refusal), and Do
// through the proxy over an AdvisoryLock.
func BenchmarkDo(b *testing.B) {
	srv.Need(b)
	p := newPool(b, srv.Addr)
	if err := postgres.Setup(context.Background(), p); err != nil { // the tables the by-hand statements use
		b.Fatal(err)
	}
	advisory := map[string]*adapters.Lock{}
	var pinned *pgxpool.Conn
	b.Cleanup(func() {
		if pinned != nil {
			pinned.Release()
		}
	})
	disttest.BenchDo(b, engine(), map[string]func(context.Context, string) error{
		"advisory-lock-by-hand": func(ctx context.Context, name string) error {
			if pinned == nil {
				c, err := p.Acquire(ctx)
				if err != nil {
					return err
				}
				pinned = c
			}
			if _, err := pinned.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", name); err != nil {
				return err
			}
			_, err := pinned.Exec(ctx, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", name)
			return err
		},
		"lease-row-by-hand-same-statements": func(ctx context.Context, name string) error {
			var token int64
			err := p.QueryRow(ctx, `INSERT INTO mixin_locks AS l (key, holder, token, expires_at)
VALUES ($1, 'by-hand', nextval('mixin_lock_tokens'), clock_timestamp() + interval '10 s')
ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, token = greatest(excluded.token, l.token + 1), expires_at = excluded.expires_at
WHERE l.expires_at <= clock_timestamp() RETURNING token`, name).Scan(&token)
			if err != nil {
				return err
			}
			_, err = p.Exec(ctx, `WITH gone AS (UPDATE mixin_locks SET expires_at = '-infinity' WHERE key = $1 AND holder = 'by-hand' RETURNING true)
SELECT count(*) FROM (SELECT pg_notify('mixin_by_hand', '') FROM gone) AS woken`, name)
			return err
		},
		"mixin-advisory-proxy": func(ctx context.Context, name string) error {
			l := advisory[name]
			if l == nil {
				h, err := postgres.NewAdvisoryLock(p, name)
				if err != nil {
					return err
				}
				if l, err = adapters.NewLock(h); err != nil {
					return err
				}
				advisory[name] = l
			}
			return l.Do(ctx, func(context.Context) error { return nil })
		},
	})
}

// BenchmarkContended: 2, 8 and 32 handles on pools of their own.
func BenchmarkContended(b *testing.B) {
	srv.Need(b)
	disttest.BenchContended(b, engine())
}

// BenchmarkSemaphore: a semaphore of 4 permits, 8 and 32 handles on pools
// of their own.
func BenchmarkSemaphore(b *testing.B) {
	srv.Need(b)
	disttest.BenchSemaphore(b, engine(), 4)
}

// BenchmarkContendedOnePool: BenchmarkContended with every handle on one
// pool, as the handles of one process share it: one listening connection
// for all its waiters. Beside BenchmarkContended (a pool, and so a
// listening connection, per handle), it shows what PostgreSQL's NOTIFY
// costs per listening session: before PostgreSQL 19 every NOTIFY wakes every
// session that listens in the database, whatever the channel.
func BenchmarkContendedOnePool(b *testing.B) {
	srv.Need(b)
	e := engine()
	p := newPool(b, srv.Addr)
	e.NewLock = func(t testing.TB, _, name string, _, _ time.Duration) disttest.Lock {
		l, err := postgres.NewLock(p, name)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	disttest.BenchContended(b, e)
}

// BenchmarkNotifyListeners: what a NOTIFY costs with no other session
// listening, with 32 sessions listening on channels of their own (none of
// them is sent the notification), and with 32 listening on the notified
// channel (each is sent it, and its client reads it): one pg_notify per
// operation, each in a transaction of its own, as a release's is. It tells
// the server's signal of every listening session of the database (before
// PostgreSQL 19, whatever the channel) from the delivery to the sessions
// that listen on the channel, that is, what a channel per waiter could save.
func BenchmarkNotifyListeners(b *testing.B) {
	srv.Need(b)
	for _, c := range []struct {
		name      string
		listeners int
		same      bool
	}{{"listeners-0", 0, false}, {"listeners-32-other-channels", 32, false}, {"listeners-32-same-channel", 32, true}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			cfg := newPool(b, srv.Addr).Config().ConnConfig
			connect := func() *pgx.Conn {
				conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = conn.Close(context.Background()) })
				return conn
			}
			notifier := connect()
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for i := range c.listeners {
				conn := connect()
				channel := "mixin_bench_notified"
				if !c.same {
					channel = "mixin_bench_other_" + strconv.Itoa(i)
				}
				if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
						_, _ = conn.WaitForNotification(wctx)
						cancel()
					}
				}()
			}
			b.Cleanup(func() { close(stop); wg.Wait() })
			b.ResetTimer()
			for range b.N {
				if _, err := notifier.Exec(ctx, "SELECT pg_notify('mixin_bench_notified', '1')"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBatonAcrossPools: the floor under BenchmarkContended, with no
// lock: a baton passed in turn among 2, 8 or 32 goroutines, each on a pool
// of its own, each running two trivial statements (as an acquisition and
// a release make two) before passing it on. It measures what it costs the
// machine to have the work move from one pool's connections (and the
// server processes behind them) to another's as the number of pools grows,
// whatever a lock does.
func BenchmarkBatonAcrossPools(b *testing.B) {
	srv.Need(b)
	for _, n := range []int{2, 8, 32} {
		b.Run("pools-"+strconv.Itoa(n), func(b *testing.B) {
			pools := make([]*pgxpool.Pool, n)
			for i := range pools {
				pools[i] = newPool(b, srv.Addr)
			}
			ctx := context.Background()
			batons := make([]chan int, n)
			for i := range batons {
				batons[i] = make(chan int, 1)
			}
			done := make(chan struct{})
			var wg sync.WaitGroup
			b.ResetTimer()
			for i, p := range pools {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for left := range batons[i] {
						if left == 0 {
							close(done)
							return
						}
						for range 2 {
							if _, err := p.Exec(ctx, "SELECT 1"); err != nil {
								b.Error(err)
							}
						}
						batons[(i+1)%n] <- left - 1
					}
				}()
			}
			batons[0] <- b.N
			<-done
			b.StopTimer()
			for _, c := range batons {
				close(c)
			}
			wg.Wait()
		})
	}
}
