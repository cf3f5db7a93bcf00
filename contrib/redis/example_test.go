package redis_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/redis"
	"github.com/gomixin/mixin/internal/doccheck"
)

// exampleAddr is the Redis the examples use: the redis-server the tests
// started (without one, TestMain leaves the examples out).
func exampleAddr() (addr string, stop func()) { return srv.Addr, func() {} }

func ExampleNewLock() {
	addr, stop := exampleAddr()
	defer stop()
	client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer client.Close()

	l, err := redis.NewLock(client, "example:orders")
	if err != nil {
		panic(err)
	}
	c, err := mixin.Compose(l) // a lock and an owner lock: no adapter
	if err != nil {
		panic(err)
	}
	lock, _ := c.Lock()
	ctx := adapters.WithTask(context.Background())
	err = lock.Do(ctx, func(ctx context.Context) error {
		token, _ := l.Token() // hand it to what the lock guards
		fmt.Println("held with a fencing token:", token > 0, "owner:", l.IsOwner(ctx))
		return nil
	})
	fmt.Println("released:", err == nil, "locked:", l.Locked())
	// Output:
	// held with a fencing token: true owner: true
	// released: true locked: false
}

func ExampleNewEvent() {
	addr, stop := exampleAddr()
	defer stop()
	publisher := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer publisher.Close()
	subscriber := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer subscriber.Close()

	type config struct{ Version int }
	defer publisher.Del(context.Background(), "example:config")
	pub, _ := redis.NewEvent[config](publisher, "example:config")
	sub, _ := redis.NewEvent[config](subscriber, "example:config")
	if _, err := sub.Get(); errors.Is(err, adapters.ErrNoValue) {
		fmt.Println("no config yet")
	}
	got := make(chan config)
	go func() {
		c, _ := sub.WaitUntil(context.Background(), func(c config) bool { return c.Version >= 2 })
		got <- c
	}()
	for v := 1; v <= 2; v++ {
		if err := pub.Set(config{Version: v}); err != nil {
			panic(err)
		}
	}
	fmt.Println("the other client woke with version", (<-got).Version)
	// Output:
	// no config yet
	// the other client woke with version 2
}

func ExampleNewSemaphore() {
	addr, stop := exampleAddr()
	defer stop()
	ctx := context.Background()
	var handles []*redis.Semaphore
	for range 3 { // a client each, as three processes would have
		client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
		defer client.Close()
		s, err := redis.NewSemaphore(client, "example:exports", 2)
		if err != nil {
			panic(err)
		}
		handles = append(handles, s)
	}
	for i, s := range handles {
		ok, err := s.TryAcquire(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Printf("handle %d took a permit: %v (all taken: %v)\n", i, ok, s.Locked())
	}
	if err := handles[0].Release(ctx); err != nil {
		panic(err)
	}
	ok, _ := handles[2].Acquire(ctx) // the permit handle 0 gave back
	fmt.Println("handle 2 after a release:", ok)
	for _, s := range handles[1:] {
		_ = s.Release(ctx)
	}
	// Output:
	// handle 0 took a permit: true (all taken: false)
	// handle 1 took a permit: true (all taken: true)
	// handle 2 took a permit: false (all taken: true)
	// handle 2 after a release: true
}

// The snippets of the README and of the package doc compile.
func TestDocSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks go-redis from source")
	}
	readme, err := doccheck.README("README.md")
	require.NoError(t, err)
	pkg, err := doccheck.PackageDoc(".")
	require.NoError(t, err)
	require.NotEmpty(t, readme)
	require.NotEmpty(t, pkg)
	doccheck.Check(t, doccheck.Preamble{
		Imports: []string{`"context"`, `"errors"`, `goredis "github.com/redis/go-redis/v9"`, `"github.com/gomixin/mixin"`, `"github.com/gomixin/mixin/adapters"`, `"github.com/gomixin/mixin/contrib/redis"`, `"testing"`, `"github.com/gomixin/mixin/validate/conform"`},
		Decls: `type Config struct{ Version int }
type Order struct{ ID string }
var (
	ctx   context.Context
	addr    string
	ourAddr string
	cfg     Config
	order Order
	store interface{ Write(context.Context, int64, Order) error }
)`,
	}, append(readme, pkg...))
}
