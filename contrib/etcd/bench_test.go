package etcd_test

import (
	"context"
	"errors"
	"testing"

	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/gomixin/mixin/contrib/etcd"
	"github.com/gomixin/mixin/contrib/internal/disttest"
)

// BenchmarkDo: Do through the proxy against etcd's concurrency package
// called by hand: a Mutex's Lock and Unlock on one long-lived session (the
// concurrency package's cheapest hold, a put and a delete on a lease granted
// once; the token, its key's create revision, is in the header of its
// Lock's transaction, as mixin's is); and the package's shortest use of a session of its own per hold
// (NewSession, Lock, Unlock, Close: a grant and a revoke more).
func BenchmarkDo(b *testing.B) {
	srv.Need(b)
	c := newClient(b, srv.Addr)
	s, err := concurrency.NewSession(c, concurrency.WithTTL(etcd.DefaultTTL))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	disttest.BenchDo(b, engine(), map[string]func(context.Context, string) error{
		"concurrency-mutex-on-a-session": func(ctx context.Context, name string) error {
			m := concurrency.NewMutex(s, name)
			if err := m.Lock(ctx); err != nil {
				return err
			}
			if m.Header().Revision == 0 { // the key's create revision: the token
				return errors.New("no revision")
			}
			return m.Unlock(ctx)
		},
		"concurrency-session-per-hold": func(ctx context.Context, name string) error {
			s, err := concurrency.NewSession(c, concurrency.WithTTL(etcd.DefaultTTL))
			if err != nil {
				return err
			}
			m := concurrency.NewMutex(s, name)
			if err := m.Lock(ctx); err != nil {
				return err
			}
			if err := m.Unlock(ctx); err != nil {
				return err
			}
			return s.Close()
		},
	})
}

// BenchmarkContended: 2, 8 and 32 handles on clients of their own.
func BenchmarkContended(b *testing.B) {
	srv.Need(b)
	disttest.BenchContended(b, engine())
}

// BenchmarkSemaphore: a semaphore of 4 permits, 8 and 32 handles on clients
// of their own.
func BenchmarkSemaphore(b *testing.B) {
	srv.Need(b)
	disttest.BenchSemaphore(b, engine(), 4)
}
