package conform_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gomixin/mixin/validate/conform"
)

// The suites the matrix in matrix_test.go does not drive (Group, Context,
// ExecContext, Awaitable), over implementations with one method made to
// panic, call runtime.Goexit or block until the test ends: every cell must
// end and fail the suite, without ending the test binary.

type reviewGroup struct{ broken }

func (g reviewGroup) Setup(context.Context) error   { g.hit("Setup"); return nil }
func (g reviewGroup) Cleanup(context.Context) error { g.hit("Cleanup"); return nil }

type reviewCtx struct{ broken }

func (c reviewCtx) Enter() (int, error) { c.hit("Enter"); return 1, nil }
func (c reviewCtx) Exit(error) bool     { c.hit("Exit"); return false }

type reviewAwait struct {
	broken
	wg *sync.WaitGroup
}

func (a reviewAwait) Wait() { a.hit("Wait"); a.wg.Wait() }

func TestReviewSuitesOverBrokenImplementations(t *testing.T) {
	opts := []conform.Option{conform.WithTimeout(100 * time.Millisecond), conform.WithWaiters(2)}
	suites := []struct {
		name    string
		methods []string
		run     func(r *recorder, k broken) bool
	}{
		{"group", []string{"Setup", "Cleanup"}, func(r *recorder, k broken) bool {
			return conform.Group(r, func() any { return reviewGroup{k} }, opts...)
		}},
		{"context", []string{"Enter", "Exit"}, func(r *recorder, k broken) bool {
			return conform.Context[int](r, func() any { return reviewCtx{k} }, opts...)
		}},
		{"execcontext", []string{"Enter", "Exit"}, func(r *recorder, k broken) bool {
			return conform.ExecContext[int](r, func() any { return reviewCtx{k} }, opts...)
		}},
		{"awaitable", []string{"Wait"}, func(r *recorder, k broken) bool {
			return conform.Awaitable(r, func() (any, func()) {
				wg := &sync.WaitGroup{}
				wg.Add(1)
				var once sync.Once
				return reviewAwait{k, wg}, func() { once.Do(wg.Done) }
			}, opts...)
		}},
	}
	for _, s := range suites {
		for _, m := range s.methods {
			for _, b := range breakages[:3] { // panics, goexits, blocks
				t.Run(s.name+"/"+m+"/"+b.name, func(t *testing.T) {
					t.Parallel()
					suiteCell(t, s.run, m, b.b)
				})
			}
		}
	}
}
