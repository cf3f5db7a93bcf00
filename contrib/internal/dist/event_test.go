package dist_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/internal/dist"
	"github.com/gomixin/mixin/validate/conform"
)

// memStore is a Store in one process: every Put is kept in order, and
// followers read on from where they began.
type memStore struct {
	mu    sync.Mutex
	puts  [][]byte      // every value ever put
	value []byte        // nil when empty
	more  chan struct{} // closed and replaced on every Put
	down  bool
}

func newMemStore() *memStore { return &memStore{more: make(chan struct{})} }

var errDown = errors.New("store away")

func (s *memStore) Put(_ context.Context, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errDown
	}
	s.puts, s.value = append(s.puts, data), data
	close(s.more)
	s.more = make(chan struct{})
	return nil
}

func (s *memStore) Get(context.Context) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.value, s.value != nil, nil
}

func (s *memStore) Exists(ctx context.Context) (bool, error) {
	_, ok, err := s.Get(ctx)
	return ok, err
}

func (s *memStore) Delete(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.value = nil
	return nil
}

func (s *memStore) Follow(ctx context.Context, read bool, next func([]byte) bool) error {
	s.mu.Lock()
	from, value := len(s.puts), s.value
	s.mu.Unlock()
	if read && value != nil && next(value) {
		return nil
	}
	for {
		s.mu.Lock()
		pending, more := s.puts[from:], s.more
		from = len(s.puts)
		s.mu.Unlock()
		for _, data := range pending {
			if next(data) {
				return nil
			}
		}
		select {
		case <-more:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func TestEventConforms(t *testing.T) {
	s := newMemStore()
	conform.Event(t, func() any {
		return dist.NewEvent[string](s, "memory event", "mem", dist.JSON, time.Second)
	}, func(i int) string { return "v" + strconv.Itoa(i) }, conform.Handles())
}

func TestEventReportsStoreAndCodecErrors(t *testing.T) {
	s := newMemStore()
	e := dist.NewEvent[int](s, "memory event", "mem", dist.JSON, time.Second)
	_, err := e.Get()
	assert.ErrorIs(t, err, adapters.ErrNoValue)
	s.down = true
	assert.ErrorIs(t, e.Set(1), errDown)
	s.down = false

	require.NoError(t, s.Put(context.Background(), []byte("not json")))
	_, err = e.Get()
	assert.ErrorContains(t, err, "decode memory event")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = e.Wait(ctx)
	assert.ErrorContains(t, err, "decode", "a value that cannot be decoded ends a wait with why")

	short, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	_, err = e.WaitForNext(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
