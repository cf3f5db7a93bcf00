package mixin_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
)

type worker struct{ setUp, cleaned bool }

func (w *worker) Setup(context.Context) error { w.setUp = true; return nil }
func (w *worker) Cleanup(context.Context) error {
	w.cleaned = true
	return nil
}

func TestComposeGroup(t *testing.T) {
	w := &worker{}
	c, err := mixin.Compose(w)
	require.NoError(t, err)
	assert.Equal(t, []mixin.Kind{mixin.KindGroup}, c.Kinds(), "Setup/Cleanup attach a group by themselves")
	g, ok := c.Group()
	require.True(t, ok)
	require.NoError(t, g.Enter(context.Background()))
	g.Go(func(context.Context) error { return nil })
	require.NoError(t, g.Exit(context.Background(), nil))
	assert.True(t, w.setUp)
	assert.True(t, w.cleaned)

	c, err = mixin.Compose(&sync.Mutex{})
	require.NoError(t, err)
	assert.False(t, c.Has(mixin.KindGroup), "no hooks: no group unless required")
	c, err = mixin.Compose(&sync.Mutex{}, mixin.Require(mixin.KindGroup))
	require.NoError(t, err)
	assert.Equal(t, []mixin.Kind{mixin.KindLock, mixin.KindGroup}, c.Kinds())
}

func TestComposeExecContextOverAFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "x"))
	require.NoError(t, err)
	c, err := mixin.Compose(f, mixin.Only(mixin.KindExecContext))
	require.NoError(t, err)
	x, ok := c.ExecContext()
	require.True(t, ok)
	require.NoError(t, x.Do(context.Background(), func(_ context.Context, v any) error {
		_, err := v.(*os.File).WriteString("x")
		return err
	}))
	_, err = f.WriteString("y")
	assert.ErrorIs(t, err, os.ErrClosed)
	assert.Same(t, adapters.DefaultPool(), x.Loop())
}
