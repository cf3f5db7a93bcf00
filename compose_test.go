package mixin_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/internal/shop"
	"github.com/gomixin/mixin/internal/typecache"
	"github.com/gomixin/mixin/validate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestComposeStdlibValues(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	require.NoError(t, err)
	defer f.Close()
	cmd := exec.Command("true")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	tests := []struct {
		name string
		v    any
		want []mixin.Kind
	}{
		{"*os.File", f, []mixin.Kind{mixin.KindContext, mixin.KindExecContext}},
		{"*sync.WaitGroup", &sync.WaitGroup{}, []mixin.Kind{mixin.KindAwaitable}},
		{"*exec.Cmd", cmd, []mixin.Kind{mixin.KindAwaitable}},
		{"context.Context", ctx, []mixin.Kind{mixin.KindAwaitable}},
		{"user context", &shop.Session{}, []mixin.Kind{mixin.KindContext, mixin.KindExecContext}},
		{"user awaitable", shop.NewJob(1), []mixin.Kind{mixin.KindAwaitable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := mixin.Compose(tt.v)
			require.NoError(t, err)
			assert.Same(t, tt.v, c.Value())
			for _, k := range tt.want {
				assert.True(t, c.Has(k), "kind %s", k)
			}
			assert.Equal(t, tt.want, intersect(c.Kinds(), tt.want))
		})
	}
}

func intersect(have, want []mixin.Kind) []mixin.Kind {
	var out []mixin.Kind
	for _, k := range want {
		for _, h := range have {
			if h == k {
				out = append(out, k)
			}
		}
	}
	return out
}

func TestComposedProxiesWork(t *testing.T) {
	s := &shop.Session{}
	c, err := mixin.Compose(s)
	require.NoError(t, err)
	cx, ok := c.Context()
	require.True(t, ok)
	err = cx.Do(context.Background(), func(_ context.Context, conn any) error {
		assert.Equal(t, 1, conn.(*shop.Conn).ID)
		return nil
	})
	require.NoError(t, err)
	_, exited := s.Counts()
	assert.Equal(t, 1, exited)

	var wg sync.WaitGroup
	wg.Add(1)
	c, err = mixin.Compose(&wg)
	require.NoError(t, err)
	aw, ok := c.Awaitable()
	require.True(t, ok)
	_, ok = c.Context()
	assert.False(t, ok)
	wg.Done()
	_, err = aw.Await(context.Background())
	assert.NoError(t, err)
}

func TestComposeRefusals(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, "mixin: can't compose nil as any kind: value is nil"},
		{"nil pointer", (*shop.Session)(nil), "mixin: can't compose (*shop.Session)(nil) as any kind: value is a nil pointer"},
		{"int", 42, "mixin: can't compose int as any kind: has none of the methods of the kinds " + fmt.Sprint(mixin.NewRegistry().Kinds())},
		{"func", func() {}, "mixin: can't compose func() as any kind: has none of the methods of the kinds " + fmt.Sprint(mixin.NewRegistry().Kinds())},
		{"near miss", shop.Session{}, "mixin: can't compose shop.Session as context: methods Exit, Enter have pointer receivers (compose &v, a *shop.Session)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := mixin.New().Compose(tt.v)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, validate.ErrAbstract)
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestRequireListsEveryProblemOfEveryKind(t *testing.T) {
	_, err := mixin.Compose(&shop.Cache{}, mixin.Require(mixin.KindContext, mixin.KindAwaitable))
	require.Error(t, err)
	var ae *validate.AbstractError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, []string{"context", "awaitable"}, ae.Kinds)
	assert.Equal(t, []string{"Exit", "Wait"}, ae.Missing)
	assert.Equal(t, "mixin: can't compose *shop.Cache as context: missing abstract method Exit, or instead Shutdown (a graceful server), GracefulStop and Stop (a graceful stopper), Close (io.Closer) or Stop (a stopper); as awaitable: missing abstract method Wait, or instead Done (a Done channel)", err.Error())

	// A value that has one required kind but not another is refused whole.
	_, err = mixin.Compose(&shop.Session{}, mixin.Require(mixin.KindContext, mixin.KindAwaitable))
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, []string{"awaitable"}, ae.Kinds)

	_, err = mixin.Compose(&shop.Session{}, mixin.Require("no-such-kind"))
	assert.ErrorIs(t, err, mixin.ErrUnknownKind)
}

func TestOnlyLimitsTheKinds(t *testing.T) {
	type both struct {
		shop.Session
		*sync.WaitGroup
	}
	v := &both{WaitGroup: &sync.WaitGroup{}}
	c, err := mixin.Compose(v)
	require.NoError(t, err)
	assert.Equal(t, []mixin.Kind{mixin.KindContext, mixin.KindExecContext, mixin.KindAwaitable}, c.Kinds())
	c, err = mixin.Compose(v, mixin.Only(mixin.KindAwaitable))
	require.NoError(t, err)
	assert.Equal(t, []mixin.Kind{mixin.KindAwaitable}, c.Kinds())
}

func TestRegisterLookupUnregisterAll(t *testing.T) {
	c := mixin.New()
	a, err := c.Register("a", &shop.Session{})
	require.NoError(t, err)
	_, err = c.Register("b", shop.NewJob(1))
	require.NoError(t, err)

	_, err = c.Register("a", &shop.Session{})
	assert.ErrorIs(t, err, mixin.ErrDuplicate, "a duplicate name is refused, not replaced")
	got, ok := c.Lookup("a")
	require.True(t, ok)
	assert.Same(t, a, got)

	_, err = c.Register("bad", 42)
	assert.ErrorIs(t, err, validate.ErrAbstract)
	assert.ErrorContains(t, err, `mixin: register "bad": can't compose int`)
	var re *mixin.RegisterError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "bad", re.Name)
	assert.True(t, strings.HasPrefix(fmt.Sprintf("%+v", err), "mixin: register \"bad\": can't compose int:\n"))
	_, err = c.Register("", &shop.Session{})
	assert.Error(t, err)

	var names []string
	for name := range c.All() {
		names = append(names, name)
		c.Unregister("b") // mutation inside the loop is safe
	}
	assert.Equal(t, []string{"a", "b"}, names)
	assert.False(t, c.Unregister("b"))
	assert.True(t, c.Unregister("a"))
	_, ok = c.Lookup("a")
	assert.False(t, ok)
}

func TestComposerIsSafeForConcurrentUse(t *testing.T) {
	c := mixin.New()
	var wg sync.WaitGroup
	errs := make(chan error, 64*3)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("p%d", i%16)
			if _, err := c.Register(name, &shop.Session{}); err != nil && !errors.Is(err, mixin.ErrDuplicate) {
				errs <- err
			}
			if _, err := c.Compose(shop.NewJob(i)); err != nil {
				errs <- err
			}
			for range c.All() {
			}
			if i%4 == 0 {
				c.Unregister(name)
			}
			if i == 7 {
				if err := c.Registry().Define(mixin.Kind(fmt.Sprint("k", i)), validate.Spec{Methods: []validate.Method{{Name: "Enter", Shapes: []reflect.Type{validate.Shape[func(context.Context) (*shop.Conn, error)]()}}}}, nil); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestComposeOfASeenTypeDoesNoScan(t *testing.T) {
	type seen struct{ shop.Session }
	c := mixin.New()
	_, err := c.Compose(&seen{})
	require.NoError(t, err)
	before := typecache.Scans()
	for range 100 {
		comp, err := c.Compose(&seen{})
		require.NoError(t, err)
		require.True(t, comp.Has(mixin.KindContext))
	}
	assert.Equal(t, before, typecache.Scans())
}

// plugin is a user-defined kind: anything that can Greet.
type greeter struct{ name string }

func (g greeter) Greet(ctx context.Context, who string) (string, error) {
	return "hello " + who + " from " + g.name, nil
}

var greeterSpec = validate.Spec{Methods: []validate.Method{{
	Name:   "Greet",
	Shapes: []reflect.Type{validate.Shape[func(context.Context, string) (string, error)]()},
	Hints:  []string{"Hello"},
}}}

func TestDefineAUserKindWithADynamicProxy(t *testing.T) {
	c := mixin.New()
	require.NoError(t, c.Registry().Define("greeter", greeterSpec, nil))
	assert.ErrorIs(t, c.Registry().Define("greeter", greeterSpec, nil), mixin.ErrDuplicate)
	assert.ErrorContains(t, c.Registry().Define("lock-ish", validate.Spec{}, nil), "the spec has no methods")

	comp, err := c.Compose(greeter{"x"})
	require.NoError(t, err)
	assert.Equal(t, []mixin.Kind{"greeter"}, comp.Kinds())
	p, ok := comp.Proxy("greeter")
	require.True(t, ok)
	d := p.(*mixin.Dynamic)
	out, err := d.Call("Greet", context.Background(), "bob")
	require.NoError(t, err)
	assert.Equal(t, []any{"hello bob from x", nil}, out)

	_, err = d.Call("Greet", context.Background())
	assert.ErrorContains(t, err, "Greet takes 2 arguments, got 1")
	_, err = d.Call("Greet", context.Background(), 3)
	assert.ErrorContains(t, err, "Greet argument 2: a int is not a string")
	_, err = d.Call("Nope")
	assert.Error(t, err)

	_, err = c.Compose(struct{ shop.Gate }{}, mixin.Require("greeter"))
	assert.ErrorContains(t, err, "as greeter: missing abstract method Greet")
}

type hello struct{}

func (hello) Hello() {}

type greetFunc func(string) string

func TestDefineWithABuildFuncAndANearMissHint(t *testing.T) {
	c := mixin.New()
	require.NoError(t, c.Registry().Define("greeter", greeterSpec, func(v any) (any, error) {
		return greetFunc(func(who string) string {
			s, _ := v.(greeter).Greet(context.Background(), who)
			return s
		}), nil
	}))
	comp, err := c.Compose(greeter{"y"})
	require.NoError(t, err)
	p, _ := comp.Proxy("greeter")
	assert.Equal(t, "hello al from y", p.(greetFunc)("al"))

	_, err = c.Compose(hello{}, mixin.Require("greeter"))
	assert.ErrorContains(t, err, "missing abstract method Greet (but does have method Hello)")
}

// A foreign type with a method set of its own: adapted by hand.
type legacyResource struct{ shut bool }

func (r *legacyResource) Shutdown(force bool) { r.shut = force }

type resourceAdapter struct{ r *legacyResource }

func (a resourceAdapter) Exit(error) { a.r.Shutdown(true) }

func TestAdaptAForeignType(t *testing.T) {
	c := mixin.New()
	_, err := c.Compose(&legacyResource{})
	require.Error(t, err, "nothing attaches by itself")
	assert.ErrorContains(t, err, "as context (as a graceful server): Shutdown has signature func(bool), want func(context.Context) error")

	typ := reflect.TypeFor[*legacyResource]()
	adapt := func(v any) (any, error) { return resourceAdapter{v.(*legacyResource)}, nil }
	require.NoError(t, c.Registry().Adapt(typ, mixin.KindContext, adapt))
	assert.ErrorIs(t, c.Registry().Adapt(typ, mixin.KindContext, adapt), mixin.ErrDuplicate)
	assert.ErrorIs(t, c.Registry().Adapt(typ, "nope", adapt), mixin.ErrUnknownKind)

	r := &legacyResource{}
	comp, err := c.Compose(r)
	require.NoError(t, err)
	assert.Same(t, r, comp.Value())
	cx, ok := comp.Context()
	require.True(t, ok)
	require.NoError(t, cx.Do(context.Background(), func(context.Context, any) error { return nil }))
	assert.True(t, r.shut)

	require.NoError(t, c.Registry().Adapt(reflect.TypeFor[*shop.Cache](), mixin.KindContext, func(any) (any, error) { return 42, nil }))
	_, err = c.Compose(&shop.Cache{}, mixin.Require(mixin.KindContext))
	assert.ErrorContains(t, err, "can't compose int as context", "an adapter that returns a non-conforming value is refused")
}

func TestRegistryLists(t *testing.T) {
	r := mixin.NewRegistry()
	assert.Subset(t, r.Kinds(), []mixin.Kind{mixin.KindContext, mixin.KindAwaitable, mixin.KindEvent, mixin.KindLock, mixin.KindOwnerLock})
	s, ok := r.Spec(mixin.KindContext)
	require.True(t, ok)
	assert.Equal(t, "context", s.Name)
	_, ok = r.Spec("x")
	assert.False(t, ok)
	assert.True(t, strings.HasPrefix(string(mixin.KindExecContext), "exec"))
}

// TestComposeOfSeenTypeAllocatesCompositeAndProxyOnly: composing a value of
// a type already planned makes the Composite and one proxy per kind, and
// nothing else (a sync.Locker's Lock and Unlock are called on the value, not
// through funcs bound for it).
func TestComposeOfSeenTypeAllocatesCompositeAndProxyOnly(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	c := mixin.New()
	mu := &sync.Mutex{}
	_, err := c.Compose(mu)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.Compose(mu); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, 2.0, allocs, "the Composite and its lock proxy")
}
