package adapters_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/shop"
	"github.com/gomixin/mixin/validate"
)

var errBody = errors.New("body failed")

func TestContextOverOSFileClosesIt(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "x"))
	require.NoError(t, err)
	c, err := adapters.NewContext[*os.File](f)
	require.NoError(t, err)

	err = c.Do(context.Background(), func(_ context.Context, got *os.File) error {
		assert.Same(t, f, got, "with no Enter, Enter yields the value itself")
		_, werr := got.WriteString("hello")
		return werr
	})
	require.NoError(t, err)
	_, err = f.WriteString("more")
	assert.ErrorIs(t, err, os.ErrClosed, "Exit closed the file")
	err = c.Exit(context.Background(), nil)
	assert.ErrorIs(t, err, os.ErrClosed, "Close's own error comes back from Exit")
}

func TestContextEnterYieldsAndExitSuppresses(t *testing.T) {
	s := &shop.Session{Suppress: true}
	c, err := adapters.NewContext[*shop.Conn](s)
	require.NoError(t, err)
	err = c.Do(context.Background(), func(_ context.Context, conn *shop.Conn) error {
		assert.Equal(t, 1, conn.ID)
		return errBody
	})
	assert.NoError(t, err, "Exit(err) bool returning true suppresses the body's error")
	assert.ErrorIs(t, s.LastErr, errBody, "Exit saw the body's error")

	s.Suppress = false
	err = c.Do(context.Background(), func(context.Context, *shop.Conn) error { return errBody })
	assert.ErrorIs(t, err, errBody)
	entered, exited := s.Counts()
	assert.Equal(t, 2, entered)
	assert.Equal(t, 2, exited)
}

func TestContextOfAnyCallsEnterOfAConcreteType(t *testing.T) {
	s := &shop.Session{}
	c, err := adapters.NewContext[any](s)
	require.NoError(t, err)
	got, err := c.Enter(context.Background())
	require.NoError(t, err)
	assert.IsType(t, &shop.Conn{}, got)
	require.NoError(t, c.Exit(context.Background(), nil))
}

func TestContextFailedEnterRunsNoBodyAndNoExit(t *testing.T) {
	g := &shop.Gate{}
	c, err := adapters.NewContext[string](g)
	require.NoError(t, err)
	ran := false
	err = c.Do(context.Background(), func(context.Context, string) error { ran = true; return nil })
	assert.ErrorIs(t, err, shop.ErrRefused)
	assert.False(t, ran)
	assert.Zero(t, g.Exits)
}

func TestContextPanicReachesExitAndGoesOn(t *testing.T) {
	s := &shop.Session{}
	c, err := adapters.NewContext[*shop.Conn](s)
	require.NoError(t, err)
	assert.PanicsWithValue(t, "boom", func() {
		_ = c.Do(context.Background(), func(context.Context, *shop.Conn) error { panic("boom") })
	})
	var pe *adapters.PanicError
	require.ErrorAs(t, s.LastErr, &pe, "Exit got the panic as a *PanicError")
	assert.Equal(t, "boom", pe.Value)
	assert.Contains(t, string(pe.Stack), "context_test.go")
	_, exited := s.Counts()
	assert.Equal(t, 1, exited)
}

func TestContextSuppressedPanicIsSwallowed(t *testing.T) {
	s := &shop.Session{Suppress: true}
	c, err := adapters.NewContext[*shop.Conn](s)
	require.NoError(t, err)
	boom := errors.New("boom")
	assert.NotPanics(t, func() {
		err = c.Do(context.Background(), func(context.Context, *shop.Conn) error { panic(boom) })
	})
	assert.NoError(t, err)
	assert.ErrorIs(t, s.LastErr, boom, "PanicError unwraps to an error value")
}

func TestContextGoexitStillExits(t *testing.T) {
	s := &shop.Session{}
	c, err := adapters.NewContext[*shop.Conn](s)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Do(context.Background(), func(context.Context, *shop.Conn) error { runtime.Goexit(); return nil })
	}()
	<-done
	assert.ErrorIs(t, s.LastErr, adapters.ErrGoexit)
	_, exited := s.Counts()
	assert.Equal(t, 1, exited)
}

// exitShapes has one type per Exit shape.
type (
	exitCanonical struct{ got error }
	exitBool      struct{ got error }
	exitErr       struct{ got error }
	exitPlain     struct{ got error }
	closePlain    struct{ closed bool }
)

var errExit = errors.New("exit failed")

func (e *exitCanonical) Exit(_ context.Context, err error) (bool, error) {
	e.got = err
	return false, errExit
}
func (e *exitBool) Exit(err error) bool { e.got = err; return true }
func (e *exitErr) Exit(err error) error { e.got = err; return errExit }
func (e *exitPlain) Exit(err error)     { e.got = err }
func (c *closePlain) Close()            { c.closed = true }

func TestContextExitShapes(t *testing.T) {
	tests := []struct {
		name    string
		v       any
		want    []error // errors.Is targets of Do's result; nil: Do returns nil
		notWant error
	}{
		{"Exit(ctx, err) (bool, error)", &exitCanonical{}, []error{errBody, errExit}, nil},
		{"Exit(err) bool", &exitBool{}, nil, errBody},
		{"Exit(err) error", &exitErr{}, []error{errBody, errExit}, nil},
		{"Exit(err)", &exitPlain{}, []error{errBody}, errExit},
		{"Close()", &closePlain{}, []error{errBody}, errExit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := adapters.NewContext[any](tt.v)
			require.NoError(t, err)
			err = c.Do(context.Background(), func(context.Context, any) error { return errBody })
			if tt.want == nil {
				assert.NoError(t, err)
			}
			for _, w := range tt.want {
				assert.ErrorIs(t, err, w)
			}
			if tt.notWant != nil {
				assert.NotErrorIs(t, err, tt.notWant)
			}
		})
	}
}

func TestContextRefusals(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, "mixin: can't compose nil as context: value is nil"},
		{"nil pointer", (*shop.Session)(nil), "mixin: can't compose (*shop.Session)(nil) as context: value is a nil pointer"},
		{"int", 7, "mixin: can't compose int as context: missing abstract method Exit, or instead Shutdown (a graceful server), GracefulStop and Stop (a graceful stopper), Close (io.Closer) or Stop (a stopper)"},
		{"chan", make(chan int), "mixin: can't compose chan int as context: missing abstract method Exit, or instead Shutdown (a graceful server), GracefulStop and Stop (a graceful stopper), Close (io.Closer) or Stop (a stopper)"},
		{"pointer receiver", shop.Session{}, "mixin: can't compose shop.Session as context: methods Exit, Enter have pointer receivers (compose &v, a *shop.Session)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := adapters.NewContext[any](tt.v)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, validate.ErrAbstract)
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestContextTypedRefusesOtherT(t *testing.T) {
	_, err := adapters.NewContext[int](&shop.Session{})
	require.ErrorIs(t, err, validate.ErrAbstract)
	assert.Contains(t, err.Error(), "Enter has signature func(context.Context) (*shop.Conn, error), want func(context.Context) (int, error)")

	_, err = adapters.NewContext[string](&closePlain{})
	require.ErrorIs(t, err, validate.ErrAbstract)
	assert.Equal(t, "mixin: can't compose *adapters_test.closePlain as context: has no Enter, so Enter would yield the value itself, which is not a string", err.Error())
}

func TestZeroContextIsAnErrorNotAPanic(t *testing.T) {
	var c *adapters.Context[int]
	_, err := c.Enter(context.Background())
	assert.ErrorIs(t, err, adapters.ErrUnusable)
	assert.ErrorIs(t, c.Exit(context.Background(), nil), adapters.ErrUnusable)
	assert.ErrorIs(t, new(adapters.Context[int]).Do(context.Background(), nil), adapters.ErrUnusable)
	c2, err := adapters.NewContext[any](&closePlain{})
	require.NoError(t, err)
	assert.Error(t, c2.Do(context.Background(), nil), "a nil body is an error")
}

func TestPanicErrorFormats(t *testing.T) {
	pe := &adapters.PanicError{Value: "v", Stack: []byte("stack")}
	assert.Equal(t, "mixin: panic: v", pe.Error())
	assert.Nil(t, pe.Unwrap())
	assert.True(t, strings.HasSuffix(sprintfPlus(pe), "\nstack"))
}
