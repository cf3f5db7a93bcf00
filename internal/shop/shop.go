// Package shop holds types declared outside the library's packages, as a
// user's or a plugin's would be, for the library's tests and examples.
package shop

import (
	"context"
	"errors"
	"sync"
)

// Cache is a near-miss lock: Acquire has the wrong signature, Unlock stands
// where Release should, and Locked is absent.
type Cache struct{ n int }

// Acquire returns a number instead of reporting success.
func (c *Cache) Acquire() int { c.n++; return c.n }

// Unlock is what many people call Release.
func (c *Cache) Unlock() {}

// Store has the lock methods on its pointer type only.
type Store struct{ held bool }

// Acquire takes the store.
func (s *Store) Acquire(context.Context) (bool, error) { s.held = true; return true, nil }

// Release gives it back.
func (s *Store) Release(context.Context) error { s.held = false; return nil }

// Locked reports whether it is taken.
func (s *Store) Locked() bool { return s.held }

// Typo misspells Release.
type Typo struct{}

// Acquire takes it.
func (Typo) Acquire(context.Context) (bool, error) { return true, nil }

// Relase is Release misspelt.
func (Typo) Relase(context.Context) error { return nil }

// Locked reports false.
func (Typo) Locked() bool { return false }

// Session is a context manager with its own Enter and a suppressing Exit,
// counting what it saw.
type Session struct {
	mu       sync.Mutex
	Entered  int
	Exited   int
	LastErr  error
	Suppress bool
}

// Conn is what a Session yields.
type Conn struct{ ID int }

// Enter opens a connection.
func (s *Session) Enter(context.Context) (*Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Entered++
	return &Conn{ID: s.Entered}, nil
}

// Exit closes it and suppresses the error when Suppress is set.
func (s *Session) Exit(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Exited++
	s.LastErr = err
	return s.Suppress
}

// Counts returns Entered and Exited under the lock.
func (s *Session) Counts() (entered, exited int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Entered, s.Exited
}

// ErrRefused is what a failing Enter returns.
var ErrRefused = errors.New("shop: refused")

// Gate refuses to be entered.
type Gate struct{ Exits int }

// Enter always fails.
func (g *Gate) Enter() (string, error) { return "", ErrRefused }

// Exit counts.
func (g *Gate) Exit(error) error { g.Exits++; return nil }

// Job is an awaitable whose context-less Wait returns a result once release
// is closed, counting its calls.
type Job struct {
	mu      sync.Mutex
	Release chan struct{}
	Result  int
	Calls   int
}

// NewJob returns a Job that finishes with result once Release is closed.
func NewJob(result int) *Job { return &Job{Release: make(chan struct{}), Result: result} }

// Wait blocks until Release is closed.
func (j *Job) Wait() (int, error) {
	j.mu.Lock()
	j.Calls++
	j.mu.Unlock()
	<-j.Release
	return j.Result, nil
}

// CallCount returns how often Wait was called.
func (j *Job) CallCount() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.Calls
}

// Future is a ctx-aware awaitable of a string.
type Future struct{ Ch chan string }

// Wait waits for the value or ctx.
func (f Future) Wait(ctx context.Context) (string, error) {
	select {
	case s := <-f.Ch:
		return s, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
