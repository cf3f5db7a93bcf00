package adapters_test

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/validate"
)

// Each kind's exported spec names the kind, accepts a value of the kind,
// refuses one that is not (the group kind refuses nothing: its methods are
// optional), and is a copy: editing it changes nothing for the next caller.
func TestSpecsAreUsableCopies(t *testing.T) {
	cases := []struct {
		name   string
		spec   func() validate.Spec
		good   any
		refuse bool
	}{
		{"context", adapters.ContextSpec, io.NopCloser(nil), true},
		{"exec-context", adapters.ExecContextSpec, io.NopCloser(nil), true},
		{"awaitable", adapters.AwaitableSpec, &sync.WaitGroup{}, true},
		{"event", adapters.EventSpec, adapters.NewValueEvent[int](), true},
		{"lock", adapters.LockSpec, &sync.Mutex{}, true},
		{"owner-lock", adapters.OwnerLockSpec, adapters.NewOwnerMutex(), true},
		{"group", adapters.GroupSpec, struct{}{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.spec()
			assert.Equal(t, tc.name, s.Name)
			assert.NoError(t, validate.Check(tc.good, s))
			if tc.refuse {
				err := validate.Check(struct{}{}, s)
				assert.ErrorIs(t, err, validate.ErrAbstract)
			}
			if len(s.Methods) > 0 {
				s.Methods[0].Name = "Edited"
			}
			assert.NotEqual(t, "Edited", tc.spec().Methods[0].Name, "the spec handed out is a copy")
		})
	}
}

// Every proxy hands back the value it wraps, unchanged.
func TestProxiesReturnTheirValue(t *testing.T) {
	closer := io.NopCloser(nil)
	wg := &sync.WaitGroup{}
	ev := adapters.NewValueEvent[int]()
	mu := &sync.Mutex{}
	om := adapters.NewOwnerMutex()
	cmd := exec.Command("true")

	c, err := adapters.NewContext[any](closer)
	require.NoError(t, err)
	x, err := adapters.NewExecContext[any](closer)
	require.NoError(t, err)
	a, err := adapters.NewAwaitable[any](wg)
	require.NoError(t, err)
	a2, err := adapters.NewAwaitable[any](cmd)
	require.NoError(t, err)
	e, err := adapters.NewEvent[int](ev)
	require.NoError(t, err)
	l, err := adapters.NewLock(mu)
	require.NoError(t, err)
	o, err := adapters.NewOwnerLock(om)
	require.NoError(t, err)
	g, err := adapters.NewGroup(nil)
	require.NoError(t, err)

	assert.Equal(t, closer, c.Value())
	assert.Equal(t, closer, x.Value())
	assert.Same(t, wg, a.Value())
	assert.Same(t, cmd, a2.Value())
	assert.Same(t, ev, e.Value())
	assert.Same(t, mu, l.Value())
	assert.Same(t, om, o.Value())
	assert.Same(t, om, o.AsLock().Value())
	assert.Nil(t, g.Value())

	var zeroOwner *adapters.OwnerLock
	assert.Nil(t, zeroOwner.AsLock())
	assert.Nil(t, zeroOwner.Value())
	assert.False(t, zeroOwner.IsOwner(adapters.WithTask(context.Background())))
}

// An owner lock's Enter, Exit and Do behave as a lock's and check ownership
// on the way out.
func TestOwnerLockEnterExitDo(t *testing.T) {
	o, err := adapters.NewOwnerLock(adapters.NewOwnerMutex())
	require.NoError(t, err)
	a := adapters.WithTask(context.Background())
	b := adapters.WithTask(context.Background())

	_, err = o.Enter(a)
	require.NoError(t, err)
	assert.True(t, o.IsOwner(a))
	body := errors.New("body")
	err = o.Exit(b, body)
	assert.ErrorIs(t, err, body, "the body's error comes back")
	assert.ErrorIs(t, err, adapters.ErrNotOwner, "joined with the refused release")
	assert.True(t, o.Locked())
	assert.ErrorIs(t, o.Exit(a, body), body)
	assert.False(t, o.Locked())

	err = o.Do(context.Background(), func(context.Context) error { t.Error("ran without a task"); return nil })
	assert.ErrorIs(t, err, adapters.ErrNoTask)

	// Mutual exclusion through Do is shown for OwnerMutex with the other
	// lock shapes (TestLockDoIsMutuallyExclusiveForEveryShape); here, Do
	// holds the lock for the caller's task.
	err = o.Do(a, func(ctx context.Context) error {
		if !o.IsOwner(ctx) || o.IsOwner(b) {
			return errors.New("inside Do, the caller's task is not the only owner")
		}
		return nil
	})
	assert.NoError(t, err)
	assert.False(t, o.Locked())

	assert.PanicsWithValue(t, "boom", func() {
		_ = o.Do(a, func(context.Context) error { panic("boom") })
	})
	assert.False(t, o.Locked(), "a panic in Do releases")
}

// ownerFlag is an owner lock over a sync.Mutex whose ReleaseUnchecked has
// one of the two context-less shapes.
type ownerFlag struct {
	mu    sync.Mutex
	owner atomic.Uint64
}

func (f *ownerFlag) Acquire(ctx context.Context) (bool, error) {
	task, ok := adapters.TaskOf(ctx)
	if !ok {
		return false, adapters.ErrNoTask
	}
	f.mu.Lock()
	f.owner.Store(uint64(task))
	return true, nil
}
func (f *ownerFlag) Locked() bool { return f.owner.Load() != 0 }
func (f *ownerFlag) IsOwner(ctx context.Context) bool {
	task, ok := adapters.TaskOf(ctx)
	return ok && f.owner.Load() == uint64(task)
}
func (f *ownerFlag) unlock() { f.owner.Store(0); f.mu.Unlock() }

type ownerFlagErr struct{ ownerFlag }

func (f *ownerFlagErr) ReleaseUnchecked() error { f.unlock(); return nil }

type ownerFlagPlain struct{ ownerFlag }

func (f *ownerFlagPlain) ReleaseUnchecked() { f.unlock() }

func TestOwnerLockReleaseUncheckedShapes(t *testing.T) {
	for name, v := range map[string]any{
		"ReleaseUnchecked() error": &ownerFlagErr{},
		"ReleaseUnchecked()":       &ownerFlagPlain{},
	} {
		t.Run(name, func(t *testing.T) {
			o, err := adapters.NewOwnerLock(v)
			require.NoError(t, err)
			a := adapters.WithTask(context.Background())
			ok, err := o.Acquire(a)
			require.NoError(t, err)
			require.True(t, ok)
			assert.ErrorIs(t, o.Release(adapters.WithTask(context.Background())), adapters.ErrNotOwner)
			assert.True(t, o.Locked())
			assert.NoError(t, o.Release(a))
			assert.False(t, o.Locked())
		})
	}
}
