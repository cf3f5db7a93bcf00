package postgres

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A process listens for the releases of locks and the Sets of events on
// one connection per pool, opened beside the pool (not one of its
// connections, so the pool's size is the application's) with the pool's
// connection settings, while anything in the process waits on that pool and
// for linger after. Its notifications are fanned out to the waiters in the
// process: a lock's release wakes the first of its waiters that is not
// awake already (waiters queue per lock, in the order they began to wait);
// an event's Set wakes all of its waiters. Whenever a channel is listened
// to anew (first use, or after the connection was opened again) its waiters
// are woken to look again, since a release or a Set may have been missed.

// linger is how long a listening connection outlives its last waiter, so
// that a lock passed back and forth in a process keeps it.
const linger = 100 * time.Millisecond

// heartbeat is how long a listening connection with waiters waits for a
// notification before it makes sure, with a ping bounded by as long, that
// it is alive: a connection cut off without a word (a partition, a NAT that
// dropped the flow) is otherwise found dead only by TCP's keep-alive,
// minutes later. One ping a second per pool with waiters; a silent
// connection is opened again within two heartbeats, and its waiters look
// again (the battery's silence cells: within 6 s of the silence's end).
const heartbeat = time.Second

// reread bounds an event waiter's wait for a notification that may have
// been lost on its way (a pooler in transaction mode): it reads the row
// again.
const reread = 15 * time.Second

var (
	listenersMu sync.Mutex
	listeners   = map[*pgxpool.Pool]*listener{}
)

// listener is a pool's listening connection and its waiters.
type listener struct {
	pool *pgxpool.Pool

	mu        sync.Mutex
	topics    map[string]*topic
	dirty     bool               // topics added or gone since the last LISTEN/UNLISTEN
	interrupt context.CancelFunc // ends the current wait for a notification
	up        bool               // connected, the topics listened to
	kick      chan struct{}      // cap 1: ends a back-off when the topics change
}

// topic is one channel's waiters.
type topic struct {
	one       bool // a lock's: a notification wakes one waiter
	subs      []*sub
	listening bool // LISTEN is in effect on the current connection
}

// sub is one waiter on a channel.
type sub struct {
	l      *listener
	name   string
	c      chan struct{} // cap 1: woken
	ticket int64         // its place in a lock's queue on the server; 0: none
}

// wants notes the waiter's ticket: a notification naming it wakes this
// waiter, and only it.
func (s *sub) wants(ticket int64) {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	s.ticket = ticket
}

// listen registers a waiter on the channel name of pool; one says that a
// notification wakes one waiter. Close it when done.
func listen(pool *pgxpool.Pool, name string, one bool) *sub {
	listenersMu.Lock()
	defer listenersMu.Unlock()
	l := listeners[pool]
	if l == nil {
		l = &listener{pool: pool, topics: map[string]*topic{}, kick: make(chan struct{}, 1)}
		listeners[pool] = l
		go l.run()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.topics[name]
	if t == nil {
		t = &topic{one: one}
		l.topics[name] = t
		l.changed()
	}
	s := &sub{l: l, name: name, c: make(chan struct{}, 1)}
	t.subs = append(t.subs, s)
	return s
}

// changed notes that the topics changed and has the listener see to it;
// l.mu is held.
func (l *listener) changed() {
	l.dirty = true
	if l.interrupt != nil {
		l.interrupt()
	}
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// up reports whether the waiter's channel is listened to on a live
// connection: then it is woken by what it waits for.
func (s *sub) up() bool {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	t := s.l.topics[s.name]
	return s.l.up && t != nil && t.listening
}

// close unregisters the waiter; a wake it had not used goes to the next
// waiter of a lock.
func (s *sub) close() {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.topics[s.name]
	if t == nil {
		return
	}
	for i, o := range t.subs {
		if o == s {
			t.subs = append(t.subs[:i], t.subs[i+1:]...)
			break
		}
	}
	select {
	case <-s.c:
		if t.one {
			t.wakeOne()
		}
	default:
	}
	if len(t.subs) == 0 {
		delete(l.topics, s.name)
		l.changed()
	}
}

// wakeOne wakes the first waiter not awake already.
func (t *topic) wakeOne() {
	for _, s := range t.subs {
		select {
		case s.c <- struct{}{}:
			return
		default:
		}
	}
}

// wakeTicket wakes the waiter whose ticket the payload names, if it waits
// in this process.
func (t *topic) wakeTicket(payload string) {
	ticket, err := strconv.ParseInt(payload, 10, 64)
	if err != nil {
		t.wakeOne()
		return
	}
	for _, s := range t.subs {
		if s.ticket == ticket {
			select {
			case s.c <- struct{}{}:
			default:
			}
			return
		}
	}
}

// wakeAll wakes every waiter.
func (t *topic) wakeAll() {
	for _, s := range t.subs {
		select {
		case s.c <- struct{}{}:
		default:
		}
	}
}

// run connects, listens and dispatches until the listener has had no
// waiter for linger, connecting again (with a back-off) when the
// connection breaks.
func (l *listener) run() {
	backoff := 5 * time.Millisecond
	for {
		conn, err := l.connect()
		if err == nil {
			backoff = 5 * time.Millisecond
			err = l.serve(conn)
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(cctx)
			cancel()
		}
		l.mu.Lock()
		l.up = false
		for _, t := range l.topics {
			t.listening = false
		}
		l.mu.Unlock()
		if l.exitIfIdle() {
			return
		}
		if err != nil { // broken or refused: wait, unless the waiters all leave
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-l.kick:
				t.Stop()
			}
			backoff = min(2*backoff, time.Second)
		}
	}
}

// exitIfIdle takes the listener out of the registry when it has no
// waiter; true when it did.
func (l *listener) exitIfIdle() bool {
	listenersMu.Lock()
	defer listenersMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.topics) > 0 {
		return false
	}
	if listeners[l.pool] == l {
		delete(listeners, l.pool)
	}
	return true
}

// connect opens the listening connection with the pool's settings; a
// cancelled wait sets a deadline on it (never a cancel request, which could
// land on the next statement), so that it stays usable.
func (l *listener) connect() (*pgx.Conn, error) {
	cfg := l.pool.Config().ConnConfig
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return pgx.ConnectConfig(ctx, cfg)
}

// serve keeps conn listening to the topics and dispatches notifications; it
// returns nil once the listener has had no waiter for linger, or why the
// connection failed.
func (l *listener) serve(conn *pgx.Conn) error {
	listened := map[string]bool{}
	for {
		l.mu.Lock()
		var sql []string
		var fresh []string
		for name, t := range l.topics {
			if !t.listening {
				if !listened[name] {
					sql = append(sql, "LISTEN "+pgx.Identifier{name}.Sanitize())
				}
				fresh = append(fresh, name)
			}
		}
		var gone []string
		for name := range listened {
			if _, ok := l.topics[name]; !ok {
				sql = append(sql, "UNLISTEN "+pgx.Identifier{name}.Sanitize())
				gone = append(gone, name)
			}
		}
		l.dirty = false
		l.mu.Unlock()
		if len(sql) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := conn.Exec(ctx, strings.Join(sql, "; "))
			cancel()
			if err != nil {
				return err
			}
		}
		for _, name := range gone {
			delete(listened, name)
		}
		l.mu.Lock()
		for _, name := range fresh {
			listened[name] = true
			if t := l.topics[name]; t != nil {
				t.listening = true
				t.wakeAll() // look again: a release or a Set may have come before the LISTEN
			}
		}
		if l.dirty {
			l.mu.Unlock()
			continue
		}
		l.up = true
		idle := len(l.topics) == 0
		wait := heartbeat
		if idle {
			wait = linger
		}
		wctx, cancel := context.WithTimeout(context.Background(), wait)
		l.interrupt = cancel
		l.mu.Unlock()

		n, err := conn.WaitForNotification(wctx)
		l.mu.Lock()
		l.interrupt = nil
		ended := wctx.Err()
		if n != nil {
			if t := l.topics[n.Channel]; t != nil {
				switch {
				case !t.one:
					t.wakeAll()
				case n.Payload != "":
					t.wakeTicket(n.Payload)
				default:
					t.wakeOne()
				}
			}
		}
		stillIdle := len(l.topics) == 0
		l.mu.Unlock()
		cancel()
		switch {
		case err == nil:
		case ended == nil:
			return err // the connection failed
		case idle && stillIdle && ended == context.DeadlineExceeded:
			return nil // no waiter for linger
		case !idle && ended == context.DeadlineExceeded:
			pctx, pcancel := context.WithTimeout(context.Background(), heartbeat)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil {
				return err
			}
		}
	}
}
