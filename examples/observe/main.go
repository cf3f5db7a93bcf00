// Command observe composes three locks a program might already have — a
// legacy *sync.Mutex, the library's OwnerMutex and a lock file — on a
// Composer with an observer, drives contention on each for a while, and
// prints what the proxies saw with no change to the wrapped code: each
// lock's Stats snapshot and a chart of its wait times.
//
//	go run ./examples/observe                 # 2 s, 8 workers per lock
//	go run ./examples/observe -d 5s -workers 16
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
)

func main() {
	d := flag.Duration("d", 2*time.Second, "how long to drive contention")
	workers := flag.Int("workers", 8, "goroutines contending for each lock")
	flag.Parse()
	if err := run(os.Stdout, *d, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "observe:", err)
		os.Exit(1)
	}
}

// lockFile is a lock file as old tools keep one: the lock is held while
// the file exists. Its methods have gofrs/flock's shapes (Lock() error,
// Unlock() error, TryLock() (bool, error), Locked() bool), so the Composer
// takes it as it is: Acquire polls TryLock until the caller's ctx ends.
type lockFile struct{ path string }

// TryLock creates the file, reporting false when it exists already.
func (f *lockFile) TryLock() (bool, error) {
	h, err := os.OpenFile(f.path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, h.Close()
}

// Lock tries every millisecond until it creates the file.
func (f *lockFile) Lock() error {
	for {
		if ok, err := f.TryLock(); ok || err != nil {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

// Unlock removes the file.
func (f *lockFile) Unlock() error { return os.Remove(f.path) }

// Locked reports whether the file exists.
func (f *lockFile) Locked() bool {
	_, err := os.Stat(f.path)
	return err == nil
}

// bounds are the upper bounds of the wait-time chart's rows.
var bounds = []time.Duration{
	time.Microsecond, 3 * time.Microsecond, 10 * time.Microsecond, 30 * time.Microsecond,
	100 * time.Microsecond, 300 * time.Microsecond, time.Millisecond, 3 * time.Millisecond,
	10 * time.Millisecond, 30 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond,
}

// waitHistogram is an adapters.Observer that counts each lock's successful
// acquisitions by wait time, in atomics.
type waitHistogram struct {
	mu    sync.Mutex
	names map[string]*[13]atomic.Int64 // one row per bound, and one above them
}

func (h *waitHistogram) Observe(_ context.Context, e adapters.Observation) {
	if e.Op != adapters.OpAcquire || e.Outcome != adapters.OutcomeOK {
		return
	}
	row := len(bounds)
	for i, b := range bounds {
		if e.Duration < b {
			row = i
			break
		}
	}
	h.rows(e.Name)[row].Add(1)
}

func (h *waitHistogram) rows(name string) *[13]atomic.Int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.names[name]
	if !ok {
		r = new([13]atomic.Int64)
		h.names[name] = r
	}
	return r
}

// chart draws name's wait times as a bar per row.
func (h *waitHistogram) chart(w io.Writer, name string) {
	rows := h.rows(name)
	var most int64
	for i := range rows {
		most = max(most, rows[i].Load())
	}
	for i := range rows {
		n := rows[i].Load()
		label := "≥ " + bounds[len(bounds)-1].String()
		if i < len(bounds) {
			label = "< " + bounds[i].String()
		}
		bar := 0
		if most > 0 {
			bar = int((n*40 + most - 1) / most)
		}
		fmt.Fprintf(w, "  %9s │%-40s %d\n", label, strings.Repeat("█", bar), n)
	}
}

// run drives contention on the three locks for d with workers goroutines
// each, then prints their Stats and charts to w.
func run(w io.Writer, d time.Duration, workers int) error {
	dir, err := os.MkdirTemp("", "mixin-observe")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	hist := &waitHistogram{names: map[string]*[13]atomic.Int64{}}
	c := mixin.New(mixin.WithObserver(hist))
	values := []struct {
		name string
		v    any
	}{
		{"legacy-mutex", &sync.Mutex{}},
		{"owner-mutex", adapters.NewOwnerMutex()},
		{"lock-file", &lockFile{path: filepath.Join(dir, "app.lock")}},
	}
	locks := make([]*adapters.Lock, len(values))
	for i, v := range values {
		comp, err := c.Register(v.name, v.v)
		if err != nil {
			return err
		}
		var ok bool
		if locks[i], ok = comp.Lock(); !ok {
			return fmt.Errorf("%s did not compose as a lock", v.name)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(locks)*workers)
	for _, l := range locks {
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				task := adapters.WithTask(ctx) // the OwnerMutex knows its holder by task
				for ctx.Err() == nil {
					err := l.Do(task, func(context.Context) error {
						time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond) // the work under the lock
						return nil
					})
					if err != nil && ctx.Err() == nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}

	for i, l := range locks {
		s := l.Stats()
		fmt.Fprintf(w, "%s (%T)\n", values[i].name, values[i].v)
		fmt.Fprintf(w, "  acquires %d (%d waited), ctx ended %d, errors %d, lost %d\n",
			s.Acquires, s.Waits, s.CtxEnded, s.Errors, s.Lost)
		mean := time.Duration(0)
		if s.Acquires > 0 {
			mean = s.WaitTime / time.Duration(s.Acquires+s.CtxEnded)
		}
		fmt.Fprintf(w, "  wait: mean %v, max %v; held %v in all, longest %v; waiting now %d, held now %d\n",
			mean.Round(time.Microsecond), s.MaxWait.Round(time.Microsecond),
			s.HoldTime.Round(time.Millisecond), s.LongestHold.Round(time.Microsecond), s.WaitingNow, s.HeldNow)
		fmt.Fprintln(w, "  wait time of the acquisitions:")
		hist.chart(w, values[i].name)
		fmt.Fprintln(w)
	}
	return nil
}
