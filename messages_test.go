package mixin_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/validate"
)

// lostWithError is a lock whose unlock says the lease was lost, with an
// error of the library's own.
type lostWithError struct{ sync.Mutex }

func (l *lostWithError) Unlock(context.Context) (bool, error) {
	l.Mutex.Unlock()
	return false, adapters.ErrNotLocked
}
func (l *lostWithError) Lock(context.Context) error { l.Mutex.Lock(); return nil }

// Every message names the package once, however its error was wrapped
// (issue 24, item 6), in its one-line form and in its %+v form.
func TestMessagesSayThePackageOnce(t *testing.T) {
	ctx := context.Background()
	mustLock := func(v any) *adapters.Lock {
		l, err := adapters.NewLock(v)
		require.NoError(t, err)
		return l
	}
	for _, tc := range []struct {
		name string
		err  func() error
		want string // the whole one-line message, or "" for only the count
		is   error
	}{
		{"release of an unlocked lock", func() error { return mustLock(&sync.Mutex{}).Release(ctx) },
			"mixin: *sync.Mutex: release of an unlocked lock", adapters.ErrNotLocked},
		{"register refused", func() error { _, err := mixin.New().Register("bad", 42); return err },
			`mixin: register "bad": can't compose int as any kind: has none of the methods of the kinds [context exec-context event awaitable owner-lock lock group]`, validate.ErrAbstract},
		{"register unknown kind", func() error {
			_, err := mixin.New().Register("bad", &sync.Mutex{}, mixin.Require("mutex"))
			return err
		}, `mixin: register "bad": compose *sync.Mutex as "mutex": unknown kind`, mixin.ErrUnknownKind},
		{"register twice", func() error {
			c := mixin.New()
			_, err := c.Register("a", &sync.Mutex{})
			require.NoError(t, err)
			_, err = c.Register("a", &sync.Mutex{})
			return err
		}, `mixin: name "a": already registered`, mixin.ErrDuplicate},
		{"adapt unknown kind", func() error {
			return mixin.New().Registry().Adapt(reflect.TypeFor[*sync.Mutex](), "mutex", func(v any) (any, error) { return v, nil })
		}, `mixin: Adapt *sync.Mutex as "mutex": unknown kind`, mixin.ErrUnknownKind},
		{"not owner", func() error {
			o, err := adapters.NewOwnerLock(adapters.NewOwnerMutex())
			require.NoError(t, err)
			ok, err := o.Acquire(adapters.WithTask(ctx))
			require.True(t, ok)
			require.NoError(t, err)
			return o.Release(adapters.WithTask(ctx))
		}, "mixin: *adapters.OwnerMutex is not acquired by current task", adapters.ErrNotOwner},
		{"lock lost with an error", func() error {
			l := mustLock(&lostWithError{})
			ok, err := l.Acquire(ctx)
			require.True(t, ok)
			require.NoError(t, err)
			return l.Release(ctx)
		}, "mixin: lock lost before release: release of an unlocked lock", adapters.ErrLockLost},
		{"panic with an error", func() error { return &adapters.PanicError{Value: adapters.ErrNoValue} },
			"mixin: panic: event holds no value", adapters.ErrNoValue},
		{"zero proxy", func() error { return new(adapters.Lock).Release(ctx) },
			"mixin: Lock used without its constructor (NewLock): zero or nil proxy", adapters.ErrUnusable},
		{"event of another type", func() error {
			e, err := adapters.NewEvent[any](adapters.NewValueEvent[int]())
			require.NoError(t, err)
			return e.WaitForValue(ctx, "x")
		}, "", adapters.ErrType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			require.Error(t, err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			for _, form := range []string{err.Error(), fmt.Sprintf("%+v", err)} {
				assert.Equal(t, 1, strings.Count(form, "mixin: "), "the package named once in %q", form)
			}
			if tc.want != "" {
				assert.EqualError(t, err, tc.want)
			}
		})
	}
}

// The %+v form's first line names the type once, with its package's path
// only where the name does not already say it, and the itemised list below.
func TestItemisedHeaderNamesTheTypeOnce(t *testing.T) {
	_, err := mixin.Compose(&sync.WaitGroup{}, mixin.Require(mixin.KindLock))
	require.Error(t, err)
	first, _, _ := strings.Cut(fmt.Sprintf("%+v", err), "\n")
	assert.Equal(t, "mixin: can't compose *sync.WaitGroup:", first)
	var ae *validate.AbstractError
	require.True(t, errors.As(err, &ae))
}
