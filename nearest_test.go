package mixin_test

import (
	"bufio"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/validate"
)

// workerPool is shaped like a goroutine pool (ants'): Release frees it.
type workerPool struct{}

func (workerPool) Release()                  {}
func (workerPool) Submit(func()) (err error) { return nil }

// A refusal of a required context names the forms the value could have had
// and its near misses (issue 24, item 7), from the context spec's forms and
// Exit's hints.
func TestRequiredContextNamesTheAlternatives(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		near string
	}{
		{"bufio.Writer", bufio.NewWriter(io.Discard), "missing abstract method Exit (but does have method Flush)"},
		{"a pool", workerPool{}, "missing abstract method Exit (but does have method Release)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mixin.Compose(tc.v, mixin.Require(mixin.KindContext))
			require.ErrorIs(t, err, validate.ErrAbstract)
			assert.ErrorContains(t, err, tc.near)
			assert.ErrorContains(t, err, ", or instead Shutdown (a graceful server), GracefulStop and Stop (a graceful stopper), Close (io.Closer) or Stop (a stopper)")
		})
	}
}

// fileMutex is almost an error locker (its Lock returns an int), and has
// one method of an owner lock (Locked).
type fileMutex struct{}

func (*fileMutex) Lock() int     { return 0 }
func (*fileMutex) Unlock() error { return nil }
func (*fileMutex) Locked() bool  { return false }

// Without Require, a refusal names the kinds the value came nearest first
// (issue 24, item 8): a lock with a wrong signature before an owner lock it
// has one method of in four.
func TestRefusalNamesTheNearestKindFirst(t *testing.T) {
	_, err := mixin.Compose(&fileMutex{})
	var ae *validate.AbstractError
	require.ErrorAs(t, err, &ae)
	require.NotEmpty(t, ae.Problems)
	assert.Equal(t, "lock", ae.Problems[0].Kind, "%v", err)
	assert.Equal(t, []string{"lock", "owner-lock"}, ae.Kinds)
	assert.Contains(t, err.Error(), "mixin: can't compose *mixin_test.fileMutex as lock (as an error locker): Lock has signature func() int")
}
