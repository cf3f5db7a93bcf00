// Command replicas runs two "replicas" of a service as goroutines, each with
// its own Redis client, and shows what contrib/redis gives them: mutual
// exclusion of a lock across clients, a lease lost by a replica cut off from
// Redis (and the other replica taking over), and an event set by one
// replica waking the other.
//
//	go run ./replicas          (from contrib/redis/examples, a module of its own)
//
// It starts a redis-server on 127.0.0.1 (a free port, a temporary
// directory) when one is installed (Debian package redis-server), and
// stops it at the end; without one it runs on miniredis, an in-process
// Redis, and says so.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/internal/serverproc"
	"github.com/gomixin/mixin/contrib/redis"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

// server is the Redis the replicas share, and how to make time pass on it.
type server struct {
	addr string
	// expire makes a lease of d run out on an in-process Redis, whose keys
	// expire only when told; a real server's keys expire on their own.
	expire func(d time.Duration)
	stop   func()
}

func start() (*server, error) {
	s, err := serverproc.Start(serverproc.Redis)
	if err == nil {
		fmt.Println("redis: redis-server on", s.Addr())
		return &server{addr: s.Addr(), expire: func(time.Duration) {}, stop: func() { _ = s.Close() }}, nil
	}
	if !errors.Is(err, serverproc.ErrMissing) {
		return nil, err
	}
	m, err := miniredis.Run()
	if err != nil {
		return nil, err
	}
	fmt.Println("redis: no redis-server installed (Debian package redis-server): using miniredis, an in-process Redis")
	return &server{addr: m.Addr(), expire: m.FastForward, stop: m.Close}, nil
}

func client(addr string) *goredis.Client {
	// ContextTimeoutEnabled: without it go-redis ignores ctx deadlines, and
	// contrib/redis refuses the client.
	return goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
}

func run() error {
	srv, err := start()
	if err != nil {
		return err
	}
	defer srv.stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := exclusion(ctx, srv); err != nil {
		return err
	}
	if err := lostLease(ctx, srv); err != nil {
		return err
	}
	return event(ctx, srv)
}

// exclusion: two replicas, four workers each with a handle of its own, add
// to a counter kept in Redis with a read-modify-write that loses updates
// unless the lock excludes them all.
func exclusion(ctx context.Context, srv *server) error {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for replica := range 2 {
		c := client(srv.addr)
		defer c.Close()
		for range 4 {
			l, err := redis.NewLock(c, "demo:counter-lock")
			if err != nil {
				return err
			}
			composite, err := mixin.Compose(l) // no adapter: the canonical methods
			if err != nil {
				return err
			}
			lock, _ := composite.Lock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 25 {
					err := lock.Do(ctx, func(ctx context.Context) error {
						n, _ := c.Get(ctx, "demo:counter").Int()
						return c.Set(ctx, "demo:counter", n+1, 0).Err()
					})
					if err != nil {
						errs <- fmt.Errorf("replica %d: %w", replica, err)
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
	c := client(srv.addr)
	defer c.Close()
	n, err := c.Get(ctx, "demo:counter").Int()
	if err != nil {
		return err
	}
	fmt.Printf("exclusion: 2 replicas x 4 workers x 25 increments under the lock: counter = %d\n", n)
	return nil
}

// lostLease: replica A holds the lock with a short lease; its connection to
// Redis stalls (a partition), so the lease cannot be refreshed and runs out.
// A is told through its body's ctx; replica B takes the lock; A's release
// reports the loss and leaves B's hold alone.
func lostLease(ctx context.Context, srv *server) error {
	const lease = 500 * time.Millisecond
	partition, err := serverproc.NewProxy(srv.addr)
	if err != nil {
		return err
	}
	defer partition.Close()
	ca, cb := client(partition.Addr()), client(srv.addr)
	defer ca.Close()
	defer cb.Close()
	a, err := redis.NewLock(ca, "demo:job-lock", redis.WithExpiry(lease))
	if err != nil {
		return err
	}
	b, err := redis.NewLock(cb, "demo:job-lock", redis.WithExpiry(lease))
	if err != nil {
		return err
	}
	lockA, err := adapters.NewLock(a)
	if err != nil {
		return err
	}
	tokenB := make(chan int64, 1)
	err = lockA.Do(ctx, func(ctx context.Context) error {
		token, _ := a.Token()
		fmt.Printf("lost lease: replica A holds the lock (fencing token %d), lease %v\n", token, lease)
		partition.Stall()
		srv.expire(lease)
		<-ctx.Done()
		fmt.Printf("lost lease: replica A is told: %v\n", context.Cause(ctx))
		bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := b.Acquire(bctx); err != nil {
			return err
		}
		token, _ = b.Token()
		tokenB <- token
		partition.Resume()
		return nil
	})
	fmt.Printf("lost lease: replica B holds it now (fencing token %d)\n", <-tokenB)
	fmt.Printf("lost lease: replica A's release says: %v (ErrLockLost: %v)\n", err, errors.Is(err, adapters.ErrLockLost))
	fmt.Printf("lost lease: B still holds it: %v\n", b.IsOwner(context.Background()))
	return b.Release(ctx)
}

// event: replica B waits for a config version; replica A publishes it.
func event(ctx context.Context, srv *server) error {
	ca, cb := client(srv.addr), client(srv.addr)
	defer ca.Close()
	defer cb.Close()
	pub, err := redis.NewEvent[string](ca, "demo:config-version")
	if err != nil {
		return err
	}
	sub, err := redis.NewEvent[string](cb, "demo:config-version")
	if err != nil {
		return err
	}
	composite, err := mixin.Compose(sub)
	if err != nil {
		return err
	}
	waiter, _ := composite.Event()
	got := make(chan error, 1)
	go func() { got <- waiter.WaitForValue(ctx, "v3") }()
	time.Sleep(50 * time.Millisecond)
	for i := 1; i <= 3; i++ {
		if err := pub.Set("v" + strconv.Itoa(i)); err != nil {
			return err
		}
	}
	if err := <-got; err != nil {
		return err
	}
	v, err := waiter.Get()
	fmt.Printf("event: replica A set v1, v2, v3; replica B, waiting for v3, woke with the event holding %v (%v)\n", v, err)
	return nil
}

func init() { log.SetFlags(0); log.SetOutput(os.Stderr) }
