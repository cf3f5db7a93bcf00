package etcd_test

import (
	"context"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/gomixin/mixin/contrib/etcd"
	"github.com/gomixin/mixin/contrib/internal/disttest"
)

// BenchmarkDo: Do through the proxy against etcd's concurrency package
// called by hand with the same round trips (a lease, a session on it, the
// Mutex's Lock, the key's create revision for the token, the delete, the
// revoke), and with the concurrency package's own shortest use (a session
// made by NewSession, Lock, Unlock, Close).
func BenchmarkDo(b *testing.B) {
	srv.Need(b)
	c := newClient(b, srv.Addr)
	disttest.BenchDo(b, engine(), map[string]func(context.Context, string) error{
		"concurrency-by-hand-same-steps": func(ctx context.Context, name string) error {
			grant, err := c.Grant(ctx, etcd.DefaultTTL)
			if err != nil {
				return err
			}
			s, err := concurrency.NewSession(c, concurrency.WithLease(grant.ID))
			if err != nil {
				return err
			}
			m := concurrency.NewMutex(s, name)
			if err := m.Lock(ctx); err != nil {
				return err
			}
			if _, err := c.Get(ctx, m.Key()); err != nil {
				return err
			}
			if _, err := c.Txn(ctx).If(m.IsOwner()).Then(clientv3.OpDelete(m.Key())).Commit(); err != nil {
				return err
			}
			s.Orphan()
			_, err = c.Revoke(ctx, grant.ID)
			return err
		},
		"concurrency-by-hand": func(ctx context.Context, name string) error {
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
