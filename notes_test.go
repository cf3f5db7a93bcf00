package mixin_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
)

// nearLocker is a sync.Locker whose author meant the Acquire/Release form:
// its Acquire returns an int and its Release is misspelt.
type nearLocker struct{ mu sync.Mutex }

func (l *nearLocker) Lock()         { l.mu.Lock() }
func (l *nearLocker) Unlock()       { l.mu.Unlock() }
func (l *nearLocker) Acquire() int  { l.mu.Lock(); return 1 }
func (l *nearLocker) Relase() error { l.mu.Unlock(); return nil }

// A near miss that composes by another form is said, not passed over in
// silence (issue 31, item 9).
func TestNotesSayANearMissThatComposedByAnotherForm(t *testing.T) {
	c, err := mixin.Compose(&nearLocker{})
	require.NoError(t, err)
	l, ok := c.Lock()
	require.True(t, ok)
	require.NoError(t, l.Do(context.Background(), func(context.Context) error { return nil }))
	notes := c.Notes()
	require.Len(t, notes, 1)
	assert.Contains(t, notes[0], "lock: composed by its sync.Locker methods")
	assert.Contains(t, notes[0], "Acquire has signature func() int")
	assert.Contains(t, notes[0], "Relase: did you mean Release?")

	for name, v := range map[string]any{"*sync.Mutex": &sync.Mutex{}, "*sync.RWMutex": &sync.RWMutex{}, "*sync.WaitGroup": &sync.WaitGroup{}} {
		c, err := mixin.Compose(v)
		require.NoError(t, err, name)
		assert.Empty(t, c.Notes(), "%s composes by the form it was written for: nothing to say", name)
	}
}
