package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunShowsEveryKindWorking(t *testing.T) {
	out := capture(t, func() { require.NoError(t, run()) })
	for _, want := range []string{
		"*sync.Mutex composes as [lock], by its Lock and Unlock: a sync.Locker",
		"50 goroutines incremented under Do: 50",
		"after Do the lock is free",
		"*sync.WaitGroup composes as [awaitable]",
		"Await after Done: <nil>",
		"the next Await joins the same Wait: exit status 3",
		"*os.File composes as [context exec-context], by its Close() error: io.Closer; its Close may block, so it is also an executor-backed context",
		"writing after Do fails: Do closed the file",
		"Await returned once it was cancelled: context canceled",
		"lock: missing abstract method Release (but does have method Unlock)",
	} {
		assert.Contains(t, out, want)
	}
}

func capture(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		var b bytes.Buffer
		_, _ = io.Copy(&b, r)
		done <- b.String()
	}()
	defer func() { os.Stdout = old }()
	fn()
	require.NoError(t, w.Close())
	return strings.TrimSpace(<-done)
}
