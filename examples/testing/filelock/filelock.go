//go:build unix

// Package filelock is a per-holder lock, as a team writes one over flock(2):
// each Handle opens the file for itself, and handles on one path exclude each
// other, across processes too. One Handle shared by goroutines is not a lock
// (flock locks belong to the open file, not to a goroutine), so it is tested
// in conform's handles mode: every contender its own Handle.
package filelock

import (
	"context"
	"errors"
	"os"
	"sync"
	"syscall"
	"time"
)

// Handle is one holder's handle on a lock file.
type Handle struct {
	path string
	mu   sync.Mutex
	f    *os.File // open while held
}

// New returns a handle on the lock file at path; it opens nothing yet.
func New(path string) *Handle { return &Handle{path: path} }

// Acquire takes the lock, trying every few milliseconds until ctx ends.
func (h *Handle) Acquire(ctx context.Context) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.f != nil {
		return false, errors.New("filelock: this handle holds the lock already")
	}
	f, err := os.OpenFile(h.path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return false, err
	}
	for wait := 500 * time.Microsecond; ; wait = min(2*wait, 10*time.Millisecond) {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			h.f = f
			return true, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return false, err
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return false, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Release gives the lock back and closes the file.
func (h *Handle) Release(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.f == nil {
		return errors.New("filelock: not held by this handle")
	}
	err := syscall.Flock(int(h.f.Fd()), syscall.LOCK_UN)
	err = errors.Join(err, h.f.Close())
	h.f = nil
	return err
}

// Locked reports whether this handle holds the lock.
func (h *Handle) Locked() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.f != nil
}
