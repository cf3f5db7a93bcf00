// Package ecosystem_test composes the third-party types Go programs really
// hold, from their real modules, with no adapter, and exercises their
// behaviour where no server is needed. It is a module of its own so that
// none of these become the library's dependencies.
package ecosystem_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/gofrs/flock"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/goleak"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/validate/conform"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	ctxKinds  = []mixin.Kind{mixin.KindContext, mixin.KindExecContext}
	lockKinds = []mixin.Kind{mixin.KindLock}
)

// TestThirdPartyTypesCompose: what each composes as, with no Adapt. Values
// that would need a server to be made are zero values: composing looks at
// their methods only.
func TestThirdPartyTypesCompose(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	watcher, err := fsnotify.NewWatcher()
	require.NoError(t, err)
	defer watcher.Close()
	srv := grpc.NewServer()
	defer srv.Stop()

	for _, tc := range []struct {
		name  string
		v     any
		kinds []mixin.Kind
		why   string
	}{
		{"*flock.Flock", flock.New(filepath.Join(t.TempDir(), "f.lock")),
			append([]mixin.Kind{mixin.KindLock}, ctxKinds...), "Lock() error/Unlock() error, TryLock and Locked used; Close closes the file"},
		{"*redsync.Mutex", redsync.New(goredis.NewPool(rdb)).NewMutex("orders"), lockKinds,
			"LockContext/UnlockContext, preferred over Lock/Unlock; an Unlock that says false is ErrLockLost"},
		{"*concurrency.Mutex (etcd)", concurrency.NewMutex(new(concurrency.Session), "/orders"), lockKinds, "Lock(ctx) error/Unlock(ctx) error"},
		{"*concurrency.Session (etcd)", new(concurrency.Session), append([]mixin.Kind{mixin.KindAwaitable}, ctxKinds...),
			"Done: resolves when the session's lease is lost; Close ends it"},
		{"*redis.Client", rdb, ctxKinds, "Close (its Wait(ctx, int, time.Duration) *IntCmd is no awaitable)"},
		{"*grpc.Server", srv, ctxKinds, "GracefulStop, then Stop when Exit's ctx ends"},
		{"*http.Server", &http.Server{}, ctxKinds, "Shutdown(ctx), then Close when Exit's ctx ends"},
		{"*errgroup.Group", new(errgroup.Group), []mixin.Kind{mixin.KindAwaitable}, "Wait() error: a future"},
		{"*pgxpool.Pool", new(pgxpool.Pool), ctxKinds, "Close() (its Acquire returns a connection: no lock)"},
		{"*nats.Conn", new(nats.Conn), ctxKinds, "Close()"},
		{"*fsnotify.Watcher", watcher, ctxKinds, "Close() error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			comp, err := mixin.New().Compose(tc.v)
			require.NoError(t, err, tc.why)
			assert.ElementsMatch(t, tc.kinds, comp.Kinds(), tc.why)
		})
	}
}

// Two flock handles on one file exclude each other through their lock
// proxies, as two processes would.
func TestFlockHandlesExcludeEachOther(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.lock")
	a, b := flock.New(path), flock.New(path)
	defer a.Close()
	defer b.Close()
	la, err := adapters.NewLock(a)
	require.NoError(t, err)
	lb, err := adapters.NewLock(b)
	require.NoError(t, err)
	ctx := context.Background()

	ok, err := la.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)
	assert.True(t, la.Locked(), "flock's own Locked")

	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	ok, err = lb.Acquire(short)
	assert.False(t, ok, "the second handle got in while the first held the lock")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, lb.Locked())

	require.NoError(t, la.Release(ctx))
	require.NoError(t, lb.Do(ctx, func(context.Context) error {
		assert.True(t, b.Locked())
		return nil
	}))
	assert.False(t, b.Locked(), "Do released it")
}

// An http.Server composed as a context finishes an in-flight request on
// exit, and cuts it when Exit's ctx ends first.
func TestHTTPServerExitIsGraceful(t *testing.T) {
	for _, tc := range []struct {
		name     string
		exitWait time.Duration
		finishes bool
	}{
		{"in-flight request finishes", 5 * time.Second, true},
		{"Exit's ctx ends first: cut", 50 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			started, release := make(chan struct{}), make(chan struct{})
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(started)
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				_, _ = io.WriteString(w, "done")
			})}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			cm, err := adapters.NewContext[any](srv)
			require.NoError(t, err)

			type reply struct {
				body string
				err  error
			}
			got := make(chan reply, 1)
			go func() {
				resp, err := http.Get("http://" + ln.Addr().String())
				if err != nil {
					got <- reply{err: err}
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				got <- reply{string(b), err}
			}()
			<-started
			ctx, cancel := context.WithTimeout(context.Background(), tc.exitWait)
			defer cancel()
			if tc.finishes {
				time.AfterFunc(30*time.Millisecond, func() { close(release) })
				require.NoError(t, cm.Exit(ctx, nil))
				r := <-got
				require.NoError(t, r.err)
				assert.Equal(t, "done", r.body, "the in-flight request was cut")
			} else {
				err := cm.Exit(ctx, nil)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				r := <-got
				assert.True(t, r.err != nil || r.body != "done", "Close cut the request")
				close(release)
			}
			assert.ErrorIs(t, <-served, http.ErrServerClosed)
			http.DefaultClient.CloseIdleConnections()
		})
	}
}

// A grpc.Server composed as a context stops on exit: Serve returns.
func TestGRPCServerStopsOnExit(t *testing.T) {
	srv := grpc.NewServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	comp, err := mixin.New().Compose(srv, mixin.Require(mixin.KindContext))
	require.NoError(t, err)
	cm, _ := comp.Context()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, cm.Do(ctx, func(context.Context, any) error { return nil }))
	select {
	case err := <-served:
		// nil after GracefulStop; ErrServerStopped if the stop came before
		// Serve had started. Either way it stopped.
		if err != nil {
			assert.ErrorIs(t, err, grpc.ErrServerStopped)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not stop")
	}
}

// A started child's *os.Process is awaited: every Await gets its state.
func TestProcessIsAwaited(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	cmd := exec.Command(sh, "-c", "exit 3")
	require.NoError(t, cmd.Start())
	comp, err := mixin.New().Compose(cmd.Process, mixin.Require(mixin.KindAwaitable))
	require.NoError(t, err)
	aw, _ := comp.Awaitable()
	for range 2 {
		v, err := aw.Await(context.Background())
		require.NoError(t, err)
		state, ok := v.(interface{ ExitCode() int })
		require.True(t, ok, "Await gives the *os.ProcessState, got %T", v)
		assert.Equal(t, 3, state.ExitCode())
	}
}

// An errgroup.Group composed as an awaitable: Await is its Wait, once.
func TestErrgroupIsAwaited(t *testing.T) {
	var g errgroup.Group
	boom := errors.New("task failed")
	g.Go(func() error { return boom })
	a, err := adapters.NewAwaitable[any](&g)
	require.NoError(t, err)
	_, err = a.Await(context.Background())
	assert.ErrorIs(t, err, boom)
}

// Per-holder locks pass the lock suite in handles mode: every contender its
// own flock.Flock on one file, as separate processes would hold them.
func TestFlockPassesTheLockSuiteInHandlesMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "suite.lock")
	var mu sync.Mutex
	var made []*flock.Flock
	defer func() {
		for _, f := range made {
			_ = f.Close()
		}
	}()
	conform.Lock(t, func() any {
		f := flock.New(path)
		mu.Lock()
		made = append(made, f)
		mu.Unlock()
		return f
	}, conform.Handles(), conform.WithWaiters(8))
}
