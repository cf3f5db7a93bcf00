package benchmarks

import (
	"context"
	"sync"
	"testing"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/validate"
)

type resource struct{ n int }

func (r *resource) Enter(context.Context) (*resource, error) { r.n++; return r, nil }
func (r *resource) Exit(_ context.Context, err error) (bool, error) {
	r.n--
	return false, err
}

func BenchmarkContextDo(b *testing.B) {
	ctx := context.Background()
	body := func(_ context.Context, r *resource) error { sink += r.n; return nil }
	b.Run("mixin", func(b *testing.B) {
		c, err := adapters.NewContext[*resource](&resource{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_ = c.Do(ctx, body)
		}
	})
	b.Run("direct", func(b *testing.B) {
		contextDirect(b, through[enterExiter](&resource{}), body)
	})
	b.Run("direct-static", func(b *testing.B) {
		var r enterExiter = &resource{} // the compiler sees through this
		b.ReportAllocs()
		for b.Loop() {
			func() (err error) {
				v, err := r.Enter(ctx)
				if err != nil {
					return err
				}
				defer func() { _, err = r.Exit(ctx, err) }()
				return body(ctx, v)
			}()
		}
	})
}

type enterExiter interface {
	Enter(context.Context) (*resource, error)
	Exit(context.Context, error) (bool, error)
}

// contextDirect is Enter / defer Exit written by hand over a value the
// caller knows by its methods only.
func contextDirect(b *testing.B, r enterExiter, body func(context.Context, *resource) error) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		func() (err error) {
			v, err := r.Enter(ctx)
			if err != nil {
				return err
			}
			defer func() { _, err = r.Exit(ctx, err) }()
			return body(ctx, v)
		}()
	}
}

type future struct{ v int }

type waiter interface {
	Wait(context.Context) (int, error)
}

func (f *future) Wait(context.Context) (int, error) { return f.v, nil }

func BenchmarkAwait(b *testing.B) {
	ctx := context.Background()
	b.Run("mixin", func(b *testing.B) {
		a, err := adapters.NewAwaitable[int](&future{v: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			v, _ := a.Await(ctx)
			sink += v
		}
	})
	b.Run("direct", func(b *testing.B) {
		w := through[waiter](&future{v: 1})
		b.ReportAllocs()
		for b.Loop() {
			v, _ := w.Wait(ctx)
			sink += v
		}
	})
	b.Run("direct-static", func(b *testing.B) {
		var w waiter = &future{v: 1} // the compiler sees through this
		b.ReportAllocs()
		for b.Loop() {
			v, _ := w.Wait(ctx)
			sink += v
		}
	})
	b.Run("waitgroup/mixin", func(b *testing.B) {
		a, err := adapters.NewAwaitable[any](&sync.WaitGroup{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_, _ = a.Await(ctx)
		}
	})
	b.Run("waitgroup/direct", func(b *testing.B) {
		wg := through[interface{ Wait() }](&sync.WaitGroup{})
		b.ReportAllocs()
		for b.Loop() {
			wg.Wait()
		}
	})
	b.Run("waitgroup/direct-static", func(b *testing.B) {
		var wg sync.WaitGroup
		b.ReportAllocs()
		for b.Loop() {
			wg.Wait()
		}
	})
}

// pluginResult is a result type of a plugin: the Composer binds a Wait
// returning it by reflection until adapters.RegisterType[pluginResult]()
// is called; an int is registered already.
type pluginResult int

type pluginFuture struct{ v pluginResult }

func (f *pluginFuture) Wait(context.Context) (pluginResult, error) { return f.v, nil }

// BenchmarkComposedAwait is Await through the Composer (T = any) over a
// value whose Wait returns a concrete type: registered (int: compiled
// code), not registered (reflection), and the direct call.
func BenchmarkComposedAwait(b *testing.B) {
	ctx := context.Background()
	await := func(b *testing.B, v any) {
		comp, err := mixin.New().Compose(v)
		if err != nil {
			b.Fatal(err)
		}
		a, ok := comp.Awaitable()
		if !ok {
			b.Fatal("not an awaitable")
		}
		b.ReportAllocs()
		for b.Loop() {
			v, _ := a.Await(ctx)
			sink += v.(int)
		}
	}
	b.Run("mixin", func(b *testing.B) { await(b, &future{v: 1}) })
	b.Run("reflect-call", func(b *testing.B) {
		comp, err := mixin.New().Compose(&pluginFuture{v: 1})
		if err != nil {
			b.Fatal(err)
		}
		a, _ := comp.Awaitable()
		b.ReportAllocs()
		for b.Loop() {
			v, _ := a.Await(ctx)
			sink += int(v.(pluginResult))
		}
	})
	b.Run("direct", func(b *testing.B) {
		w := through[waiter](&future{v: 1})
		b.ReportAllocs()
		for b.Loop() {
			v, _ := w.Wait(ctx)
			sink += v
		}
	})
}

func BenchmarkCompose(b *testing.B) {
	b.Run("seen-type", func(b *testing.B) {
		c := mixin.New()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Compose(&sync.Mutex{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("first-sight", func(b *testing.B) {
		// A fresh Composer has an empty plan cache; the validate cache of
		// method scans is process-wide, so this measures planning, not scans.
		b.ReportAllocs()
		for b.Loop() {
			if _, err := mixin.New().Compose(&sync.Mutex{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		spec := adapters.LockSpec()
		b.ReportAllocs()
		for b.Loop() {
			if err := validate.Check(&sync.Mutex{}, spec); err != nil {
				b.Fatal(err)
			}
		}
	})
}
