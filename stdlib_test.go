package mixin_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
)

// The standard library's exported types that have a Wait, Lock/Unlock,
// Close, Done or Stop method: what each composes as, and why that is right.
// None of them can crash the process through a proxy.
func TestStdlibTypesComposeAsTheirUsersExpect(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f, err := os.Create(t.TempDir() + "/f")
	require.NoError(t, err)
	defer f.Close()
	root, err := os.OpenRoot(t.TempDir())
	require.NoError(t, err)
	defer root.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	pr, pw := io.Pipe()
	defer pr.Close()
	ticker, timer := time.NewTicker(time.Hour), time.NewTimer(time.Hour)
	defer ticker.Stop()
	defer timer.Stop()
	unstarted := httptest.NewUnstartedServer(http.NotFoundHandler())
	defer unstarted.Close()
	sh, err := exec.LookPath("sh")
	require.NoError(t, err)
	cmd := exec.Command(sh, "-c", "exit 0")
	require.NoError(t, cmd.Start())
	proc := exec.Command(sh, "-c", "exit 0")
	require.NoError(t, proc.Start())
	defer func() { _ = cmd.Wait(); _, _ = proc.Process.Wait() }()

	ctxKinds := []mixin.Kind{mixin.KindContext, mixin.KindExecContext}
	for _, tc := range []struct {
		name  string
		v     any
		kinds []mixin.Kind
		why   string
	}{
		{"*sync.Mutex", &sync.Mutex{}, []mixin.Kind{mixin.KindLock}, "sync.Locker with TryLock: cancellable acquires, held state tracked"},
		{"*sync.RWMutex", &sync.RWMutex{}, []mixin.Kind{mixin.KindLock}, "its write lock, as sync.Locker"},
		{"*sync.WaitGroup", &sync.WaitGroup{}, []mixin.Kind{mixin.KindAwaitable}, "Wait(): awaited anew each time, a WaitGroup is reused"},
		{"*exec.Cmd", cmd, []mixin.Kind{mixin.KindAwaitable}, "Wait() error: a future, every Await gets the exit status"},
		{"*os.Process", proc.Process, []mixin.Kind{mixin.KindAwaitable}, "Wait() (*os.ProcessState, error): a future"},
		{"context.Context", ctx, []mixin.Kind{mixin.KindAwaitable}, "Done and Err: resolves when it ends"},
		{"*os.File", f, ctxKinds, "io.Closer: closed on exit"},
		{"*os.Root", root, ctxKinds, "io.Closer"},
		{"*net.TCPListener", ln, ctxKinds, "io.Closer: stops accepting on exit"},
		{"net.Conn", client, ctxKinds, "io.Closer"},
		{"*io.PipeReader", pr, ctxKinds, "io.Closer"},
		{"*io.PipeWriter", pw, ctxKinds, "io.Closer"},
		{"*gzip.Writer", gzip.NewWriter(io.Discard), ctxKinds, "io.Closer: flushes and closes on exit"},
		{"*http.Server", &http.Server{}, ctxKinds, "Shutdown(ctx) then Close: graceful, bounded by Exit's ctx"},
		{"*httptest.Server", unstarted, ctxKinds, "Close(): shuts down on exit"},
		{"*time.Ticker", ticker, ctxKinds, "Stop(): stopped on exit"},
		{"*time.Timer", timer, ctxKinds, "Stop() bool: stopped on exit, whether it was pending is no error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			comp, err := mixin.New().Compose(tc.v)
			require.NoError(t, err, tc.why)
			assert.ElementsMatch(t, tc.kinds, comp.Kinds(), tc.why)
		})
	}

	t.Run("*sync.Cond is refused, with the reason", func(t *testing.T) {
		var mu sync.Mutex
		cond := sync.NewCond(&mu)
		for _, opts := range [][]mixin.ComposeOption{nil, {mixin.Require(mixin.KindAwaitable)}} {
			_, err := mixin.New().Compose(cond, opts...)
			require.Error(t, err, "Await would call Wait without L held: a fatal error nothing recovers")
			assert.Contains(t, err.Error(), "must be called with its L held")
			assert.Contains(t, err.Error(), "an event (adapters.NewValueEvent) does this job")
		}
	})

	t.Run("types with none of the methods are refused", func(t *testing.T) {
		for _, v := range []any{&bytes.Buffer{}, &sync.Once{}, &strings.Builder{}} {
			_, err := mixin.New().Compose(v)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "has none of the methods")
		}
	})
}

// distLockish has lock-like methods with wrong signatures and a Value method,
// as redsync's Mutex has: a refusal speaks of the lock kinds only.
type distLockish struct{}

func (distLockish) Acquire() int  { return 0 }
func (distLockish) Unlock() int   { return 0 }
func (distLockish) Value() string { return "" }

func TestRefusalNamesOnlyTheKindsTheValueCameNear(t *testing.T) {
	_, err := mixin.New().Compose(distLockish{})
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "as lock")
	assert.Contains(t, msg, "as owner-lock", "Acquire is an owner lock's too")
	assert.NotContains(t, msg, "event", "a method called Value does not make it near an event")
}
