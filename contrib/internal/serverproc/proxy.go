package serverproc

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Direction is one way through a Proxy.
type Direction int

// The two directions of a proxied connection.
const (
	// ToServer is the way of a client's requests.
	ToServer Direction = iota
	// ToClient is the way of the server's answers.
	ToClient
)

// Proxy forwards TCP connections to a server, and makes the conditions a
// network makes between one client and its server:
//
//   - Stall holds every byte in both directions until Resume, as a network
//     partition would: the client's calls hang, the server sees a silent
//     client, and nothing is refused. Hold does it to one direction.
//   - Cut closes every connection and refuses new ones until Resume: a
//     blip.
//   - Delay makes one direction late by a fixed time, order kept: a slow
//     return path.
//   - Silence makes the connections open now silent for good, with no reset
//     (their bytes are dropped, they are never closed), while new ones work:
//     a NAT or a load balancer that dropped idle flows.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	stalled [2]chan struct{} // per direction, non-nil while held; closed by Resume
	cut     bool             // Cut: new connections are closed at once
	delay   [2]time.Duration
	closed  chan struct{}
	conns   []net.Conn
	links   []*link
	wg      sync.WaitGroup
}

// link is one proxied connection's state, shared by its two directions.
type link struct {
	silent atomic.Bool // dropped by Silence: nothing passes, nothing closes
}

// NewProxy listens on a free port of 127.0.0.1 and forwards to target.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, closed: make(chan struct{})}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the address clients dial instead of the server's.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Stall holds all traffic until Resume.
func (p *Proxy) Stall() {
	p.Hold(ToServer)
	p.Hold(ToClient)
}

// Hold holds the traffic of one direction until Resume: an asymmetric
// partition (with Hold(ToServer), the server's answers to what it already
// received still arrive).
func (p *Proxy) Hold(dir Direction) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled[dir] == nil {
		p.stalled[dir] = make(chan struct{})
	}
}

// Cut closes every connection, and closes the ones clients open until
// Resume: a blip, seen by the client as its connections dropped and its
// server unreachable for a while.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns, p.links = nil, nil
}

// Delay makes every byte read from now on in direction dir wait d before it
// is passed on (zero: none), on every connection; bytes keep their order.
func (p *Proxy) Delay(dir Direction, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay[dir] = d
}

// Silence makes every connection open now silent in both directions, for
// good: its bytes are read and dropped, and it is not closed (no reset
// reaches either end) until the proxy closes. Connections opened afterwards
// work.
func (p *Proxy) Silence() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.links {
		l.silent.Store(true)
	}
}

// Resume lets the held traffic through, and new connections after a Cut.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
	for i, st := range p.stalled {
		if st != nil {
			close(st)
			p.stalled[i] = nil
		}
	}
}

// Close closes the listener and every connection, and waits for the
// forwarding goroutines.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	select {
	case <-p.closed:
	default:
		close(p.closed)
	}
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if cut {
			_ = in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = in.Close()
			continue
		}
		p.mu.Lock()
		select {
		case <-p.closed:
			p.mu.Unlock()
			_ = in.Close()
			_ = out.Close()
			return
		default:
		}
		l := &link{}
		p.conns = append(p.conns, in, out)
		p.links = append(p.links, l)
		p.wg.Add(4)
		p.mu.Unlock()
		go p.pipe(l, ToServer, in, out)
		go p.pipe(l, ToClient, out, in)
	}
}

// chunk is what one read got, and when it may be passed on.
type chunk struct {
	data []byte
	due  time.Time
}

// pipe copies from src to dst in direction dir: a reader stamps each chunk
// with when it is due (its direction's delay after it was read), a writer
// passes it on then, holding it while stalled and dropping it while the
// link is silent.
func (p *Proxy) pipe(l *link, dir Direction, src, dst net.Conn) {
	chunks := make(chan chunk, 4096)
	go p.write(l, dir, chunks, src, dst)
	defer p.wg.Done()
	defer close(chunks)
	for {
		buf := make([]byte, 32<<10)
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			d := p.delay[dir]
			p.mu.Unlock()
			select {
			case chunks <- chunk{buf[:n], time.Now().Add(d)}:
			case <-p.closed:
				return
			}
		}
		if err != nil { // io.EOF or a closed connection
			return
		}
	}
}

// write is pipe's writer.
func (p *Proxy) write(l *link, dir Direction, chunks <-chan chunk, src, dst net.Conn) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	for c := range chunks {
		if wait := time.Until(c.due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-p.closed:
				t.Stop()
				return
			}
		}
		if !p.pass(dir) {
			return
		}
		if l.silent.Load() {
			continue
		}
		if _, err := dst.Write(c.data); err != nil {
			return
		}
	}
}

// pass waits while direction dir is held; false when the proxy closes
// meanwhile.
func (p *Proxy) pass(dir Direction) bool {
	for {
		p.mu.Lock()
		st := p.stalled[dir]
		p.mu.Unlock()
		if st == nil {
			return true
		}
		select {
		case <-st:
		case <-p.closed:
			return false
		}
	}
}
