package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	goredis "github.com/redis/go-redis/v9"
)

// linger is how long a client's pub/sub connection stays open once no wait
// uses it, so that a lock under contention does not dial for every wait.
const linger = time.Second

// clientState is what the package keeps per go-redis client: its one
// pub/sub connection, shared by every wait of every Lock, Semaphore and
// Event made on the client (open only while waits use it, and for linger
// after), and the last dial error the client met. It does not hold the
// client: it is dropped from the registry when the client is collected.
type clientState struct {
	mu   sync.Mutex
	conn *hubConn // nil when no wait uses the client's pub/sub connection
	dial atomic.Pointer[dialFailure]
}

// dialFailure is a dial that failed, and when.
type dialFailure struct {
	err error
	at  time.Time
}

var registry = struct {
	sync.Mutex
	states map[any]*clientState
}{states: map[any]*clientState{}}

// stateOf returns the client's state, made (and a dial hook added to the
// client) the first time the client is seen. The three client types of
// go-redis are keyed by a weak pointer, and forgotten when the client is
// collected; another implementation of UniversalClient is kept for the
// life of the process.
func stateOf(client goredis.UniversalClient) *clientState {
	var key any = client
	var cleanup func()
	switch c := client.(type) {
	case *goredis.Client:
		k := weak.Make(c)
		key, cleanup = k, func() { runtime.AddCleanup(c, forget, any(k)) }
	case *goredis.ClusterClient:
		k := weak.Make(c)
		key, cleanup = k, func() { runtime.AddCleanup(c, forget, any(k)) }
	case *goredis.Ring:
		k := weak.Make(c)
		key, cleanup = k, func() { runtime.AddCleanup(c, forget, any(k)) }
	}
	registry.Lock()
	defer registry.Unlock()
	if st, ok := registry.states[key]; ok {
		return st
	}
	st := &clientState{}
	registry.states[key] = st
	if cleanup != nil {
		cleanup()
	}
	client.AddHook(dialWatch{st})
	return st
}

// forget drops a collected client's state.
func forget(key any) {
	registry.Lock()
	delete(registry.states, key)
	registry.Unlock()
}

// dialWatch is the hook the package adds to each client it is given: it
// keeps the last dial error, which go-redis's pool does not return when the
// ctx ends while it retries the dial (an Acquire against a port nothing
// listens on then ended with a bare "context deadline exceeded").
type dialWatch struct{ st *clientState }

func (w dialWatch) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		cn, err := next(ctx, network, addr)
		switch {
		case err == nil:
			w.st.dial.Store(nil)
		case ctx.Err() == nil: // not the caller's ctx ending: a dial error
			w.st.dial.Store(&dialFailure{err: err, at: time.Now()})
		}
		return cn, err
	}
}

func (dialWatch) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }

func (dialWatch) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// dialErrorSince returns the client's last dial error if it came at or
// after since and no dial has worked after it; nil otherwise.
func (st *clientState) dialErrorSince(since time.Time) error {
	if f := st.dial.Load(); f != nil && !f.at.Before(since) {
		return f.err
	}
	return nil
}

// hubConn is one pub/sub connection of a client and the waits on it. A
// channel is subscribed while a wait on it is registered; messages are
// passed to every registration of their channel. When the connection drops
// (or is silent past its health check and a ping), every registration is
// told (dropped closes) and the connection is closed: the next registration
// opens another.
type hubConn struct {
	st     *clientState
	ps     *goredis.PubSub
	write  chan struct{} // held while a command is written, so commands go out in the order the state changes
	chans  map[string]*channelState
	subs   int                   // registrations
	health map[time.Duration]int // the registrations' health-check intervals, counted
	idle   *time.Timer           // closes the connection linger after its last registration left
	closed bool
}

// channelState is one channel on a hubConn.
type channelState struct {
	subs       map[*subscription]struct{}
	subscribed bool          // the last command sent for it was SUBSCRIBE
	inflight   int           // SUBSCRIBE and UNSUBSCRIBE sent, not yet confirmed
	ready      chan struct{} // closed once Redis confirmed the subscription
}

// subscription is one wait's registration on a channel: the messages
// published on it since, and whether the connection dropped.
type subscription struct {
	hc      *hubConn
	channel string
	health  time.Duration
	mu      sync.Mutex
	msgs    []string
	signal  chan struct{} // one token when msgs is not empty
	dropped chan struct{} // closed when the connection dropped
	left    bool
}

// errDropped is why a subscription ended while its ctx had not: the
// connection dropped, or went silent. The waiter looks again.
var errDropped = errors.New("the pub/sub connection dropped")

// subscribe registers a wait on channel over client's shared pub/sub
// connection (opening it if none is open) and returns once Redis has
// confirmed the subscription, so that whatever is published after the
// return is received. health is how long the connection may be silent
// before it is pinged. The subscription must be left (leave) when the wait
// ends.
func (st *clientState) subscribe(ctx context.Context, client goredis.UniversalClient, channel string, health time.Duration) (*subscription, error) {
	for {
		s, retry, err := st.trySubscribe(ctx, client, channel, health)
		if !retry {
			return s, err
		}
	}
}

func (st *clientState) trySubscribe(ctx context.Context, client goredis.UniversalClient, channel string, health time.Duration) (_ *subscription, retry bool, _ error) {
	st.mu.Lock()
	hc := st.conn
	if hc == nil {
		hc = &hubConn{st: st, ps: client.Subscribe(context.WithoutCancel(ctx)), write: make(chan struct{}, 1),
			chans: map[string]*channelState{}, health: map[time.Duration]int{}}
		st.conn = hc
		go hc.read()
	}
	if hc.idle != nil {
		hc.idle.Stop()
		hc.idle = nil
	}
	s := &subscription{hc: hc, channel: channel, health: health, signal: make(chan struct{}, 1), dropped: make(chan struct{})}
	hc.subs++
	hc.health[health]++
	cs := hc.chans[channel]
	if cs == nil {
		cs = &channelState{subs: map[*subscription]struct{}{}}
		hc.chans[channel] = cs
	}
	cs.subs[s] = struct{}{}
	st.mu.Unlock()

	select {
	case hc.write <- struct{}{}:
	case <-ctx.Done():
		s.leave()
		return nil, false, ctx.Err()
	case <-s.dropped:
		s.leave()
		return nil, true, nil
	}
	st.mu.Lock()
	send := !hc.closed && !cs.subscribed
	if send {
		cs.subscribed = true
		cs.inflight++
		cs.ready = make(chan struct{})
	}
	ready := cs.ready
	st.mu.Unlock()
	var err error
	if send {
		err = hc.ps.Subscribe(ctx, channel)
	}
	<-hc.write
	if err != nil {
		st.mu.Lock()
		ours := hc.closed // closed by a drop: its error is ErrClosed, the client's is not
		st.mu.Unlock()
		hc.drop(err)
		s.leave()
		if ours && ctx.Err() == nil {
			return nil, true, nil
		}
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, err
	}
	select {
	case <-ready:
		return s, false, nil
	case <-s.dropped:
		s.leave()
		return nil, true, nil
	case <-ctx.Done():
		s.leave()
		return nil, false, ctx.Err()
	}
}

// leave ends the registration: the channel is unsubscribed when it was the
// last on it, and the connection closed linger after the last.
func (s *subscription) leave() {
	hc, st := s.hc, s.hc.st
	st.mu.Lock()
	if s.left {
		st.mu.Unlock()
		return
	}
	s.left = true
	hc.subs--
	if hc.health[s.health]--; hc.health[s.health] == 0 {
		delete(hc.health, s.health)
	}
	cs := hc.chans[s.channel]
	delete(cs.subs, s)
	last := len(cs.subs) == 0 && cs.subscribed && !hc.closed
	if len(cs.subs) == 0 && !cs.subscribed && cs.inflight == 0 {
		delete(hc.chans, s.channel)
	}
	if hc.subs == 0 && !hc.closed {
		hc.idle = time.AfterFunc(linger, hc.closeIdle)
	}
	st.mu.Unlock()
	if !last {
		return
	}
	select {
	case hc.write <- struct{}{}:
		hc.unsubscribe(cs, s.channel)
	default: // another command is being written (a subscription may be dialing): do not wait for it
		go func() {
			hc.write <- struct{}{}
			hc.unsubscribe(cs, s.channel)
		}()
	}
}

// unsubscribe unsubscribes the channel if no registration came since its
// last left, holding the write token, which it gives back.
func (hc *hubConn) unsubscribe(cs *channelState, channel string) {
	defer func() { <-hc.write }()
	st := hc.st
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	st.mu.Lock()
	send := len(cs.subs) == 0 && cs.subscribed && !hc.closed
	if send {
		cs.subscribed = false
		cs.inflight++
	}
	st.mu.Unlock()
	if send {
		if err := hc.ps.Unsubscribe(ctx, channel); err != nil {
			hc.drop(err)
		}
	}
}

// closeIdle closes the connection if no registration came since its last
// left.
func (hc *hubConn) closeIdle() {
	hc.st.mu.Lock()
	if hc.subs > 0 || hc.closed {
		hc.st.mu.Unlock()
		return
	}
	hc.closed = true
	if hc.st.conn == hc {
		hc.st.conn = nil
	}
	hc.st.mu.Unlock()
	_ = hc.ps.Close()
}

// drop closes the connection and tells every registration on it.
func (hc *hubConn) drop(error) {
	hc.st.mu.Lock()
	if hc.st.conn == hc {
		hc.st.conn = nil
	}
	was := hc.closed
	hc.closed = true
	if hc.idle != nil {
		hc.idle.Stop()
	}
	for _, cs := range hc.chans {
		for s := range cs.subs {
			select {
			case <-s.dropped:
			default:
				close(s.dropped)
			}
		}
	}
	hc.st.mu.Unlock()
	if !was {
		_ = hc.ps.Close()
	}
}

// healthCheck is the shortest health-check interval of the registrations.
func (hc *hubConn) healthCheck() time.Duration {
	hc.st.mu.Lock()
	defer hc.st.mu.Unlock()
	d := DefaultHealthCheck
	for h := range hc.health {
		d = min(d, h)
	}
	return d
}

// read receives what Redis sends on the connection and passes it on, until
// the connection is closed or drops. A connection silent for the health
// check is pinged; one whose ping is not answered within as long again is
// taken as dropped (a flow a NAT dropped gives no other sign).
func (hc *hubConn) read() {
	ctx := context.Background()
	pinged := false
	for {
		health := hc.healthCheck()
		msg, err := hc.ps.ReceiveTimeout(ctx, health)
		switch {
		case err == nil:
			pinged = false
			hc.dispatch(msg)
			continue
		case !timedOut(err):
			hc.drop(err)
			return
		case pinged:
			hc.drop(fmt.Errorf("%w: no answer to a ping within %v", errDropped, health))
			return
		}
		hc.st.mu.Lock()
		closed, busy := hc.closed, hc.subs > 0
		hc.st.mu.Unlock()
		if closed {
			return
		}
		if !busy {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, health)
		err = hc.ps.Ping(pctx)
		cancel()
		if err != nil {
			hc.drop(err)
			return
		}
		pinged = true
	}
}

// dispatch passes one thing Redis sent on to the registrations it concerns.
func (hc *hubConn) dispatch(msg any) {
	hc.st.mu.Lock()
	defer hc.st.mu.Unlock()
	switch m := msg.(type) {
	case *goredis.Subscription:
		cs := hc.chans[m.Channel]
		if cs == nil || (m.Kind != "subscribe" && m.Kind != "unsubscribe") {
			return
		}
		if cs.inflight > 0 {
			cs.inflight--
		}
		if cs.inflight > 0 {
			return
		}
		switch {
		case cs.subscribed:
			select {
			case <-cs.ready:
			default:
				close(cs.ready)
			}
		case len(cs.subs) == 0:
			delete(hc.chans, m.Channel)
		}
	case *goredis.Message:
		cs := hc.chans[m.Channel]
		if cs == nil {
			return
		}
		for s := range cs.subs {
			s.mu.Lock()
			s.msgs = append(s.msgs, m.Payload)
			s.mu.Unlock()
			select {
			case s.signal <- struct{}{}:
			default:
			}
		}
	}
}

// next returns the messages received since the last call, waiting up to
// bound for one (forever when bound is 0): none when the wait timed out;
// errDropped when the connection dropped; ctx's error when it ended.
func (s *subscription) next(ctx context.Context, bound time.Duration) ([]string, error) {
	var timeout <-chan time.Time
	if bound > 0 {
		t := time.NewTimer(bound)
		defer t.Stop()
		timeout = t.C
	}
	for {
		s.mu.Lock()
		msgs := s.msgs
		s.msgs = nil
		s.mu.Unlock()
		if len(msgs) > 0 {
			return msgs, nil
		}
		select {
		case <-s.signal:
		case <-s.dropped:
			s.mu.Lock()
			msgs := s.msgs
			s.msgs = nil
			s.mu.Unlock()
			if len(msgs) > 0 {
				return msgs, nil
			}
			return nil, errDropped
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timeout:
			return nil, nil
		}
	}
}
