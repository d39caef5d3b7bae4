package serial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNewConnection is returned by Conn.Read once after every successful
// (re)connection, before any of the new connection's bytes: a parser
// drops partial input and counter history when it sees it.
var ErrNewConnection = errors.New("serial: new connection")

// ErrClosed is returned by Conn.Read after Close.
var ErrClosed = errors.New("serial: connection closed")

// ErrNotConnected is returned by Conn.Write while the device is away.
var ErrNotConnected = errors.New("serial: not connected")

// errHangup reports reads that end at once with EOF: the other side hung up.
var errHangup = errors.New("reads return EOF immediately (hang-up)")

// ConnConfig configures a Conn. Zero durations take the documented defaults.
type ConnConfig struct {
	// Name is the device path, e.g. /dev/ttyUSB0 or a /dev/serial/by-id link.
	Name string
	// Baud is the line speed (default 115200).
	Baud int
	// ReadTimeout bounds one read (default and minimum 100 ms): it sets
	// how quickly Close and idle checks react.
	ReadTimeout time.Duration
	// IdleCheck is how long the line may be silent before the device path
	// is checked (default 2 s). A silent line whose path still names the
	// device that was opened is idle, not lost; a path that is gone or now
	// names another device (unplugged and plugged back in between two
	// checks) means the device was lost.
	IdleCheck time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnection
	// attempts, which doubles after each failure (defaults 100 ms, 5 s).
	MinBackoff, MaxBackoff time.Duration
	// OnConnect runs after every open, before any byte is handed out: it
	// sends the protocol's start command. An error closes the port and
	// counts as a failed attempt.
	OnConnect func(ctx context.Context, p Port) error
	// OnClose runs before the port is closed by Close (not after a loss):
	// it sends the protocol's stop command.
	OnClose func(p Port)
	// Now reads the host clock that stamps arrivals (default SystemClock).
	Now HostClock
	// Log receives connection events; nil discards them.
	Log *slog.Logger
}

// ConnStats counts what happened on a Conn.
type ConnStats struct {
	Connects int64 // successful opens, the first included
	Losses   int64 // times the device was declared lost
	Bytes    int64 // bytes read
}

type chunk struct {
	buf  []byte
	n    int
	at   HostTime // when the read returned
	conn bool     // a new connection starts here
}

const (
	chunkSize    = 4096
	chunkBuffers = 16
)

// Conn is a self-healing serial connection. A goroutine owned by the Conn
// opens the port, reads it into a bounded ring of buffers (64 KiB) with
// arrival times, declares the device lost when its path disappears or
// names a different device node than the one opened, a read fails or
// reads hang up, and reopens it with exponential backoff.
// Every loop iteration waits on a read or a timer, so it never spins.
// Read and Write may be called from different goroutines; Read from one.
type Conn struct {
	cfg    ConnConfig
	log    *slog.Logger
	free   chan []byte
	chunks chan chunk
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	port Port

	cur   chunk
	off   int
	timer *time.Timer

	connects, losses, bytes atomic.Int64
}

// Dial starts a Conn for cfg and returns at once; the connection is made
// (and remade) in the background until ctx is done or Close is called.
func Dial(ctx context.Context, cfg ConnConfig) *Conn {
	if cfg.Baud == 0 {
		cfg.Baud = 115200
	}
	cfg.ReadTimeout = min(max(cfg.ReadTimeout, MinReadTimeout), MaxReadTimeout)
	if cfg.IdleCheck <= 0 {
		cfg.IdleCheck = 2 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(5*time.Second, cfg.MinBackoff)
	}
	if cfg.Now == nil {
		cfg.Now = SystemClock
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Conn{
		cfg:    cfg,
		log:    log.With("port", cfg.Name),
		free:   make(chan []byte, chunkBuffers),
		chunks: make(chan chunk, chunkBuffers+1),
		done:   make(chan struct{}),
		timer:  time.NewTimer(time.Hour),
	}
	c.timer.Stop()
	for range chunkBuffers {
		c.free <- make([]byte, chunkSize)
	}
	ctx, c.cancel = context.WithCancel(ctx)
	go c.run(ctx)
	return c
}

// Read copies bytes that arrived into p and returns how many, with the
// host time at which they arrived. It blocks until bytes are there, wait
// passes (0, zero time, nil; wait <= 0 waits for ever), ctx is done
// (ctx.Err()) or the Conn is closed (ErrClosed). It returns
// ErrNewConnection once at the start of every connection.
func (c *Conn) Read(ctx context.Context, p []byte, wait time.Duration) (int, HostTime, error) {
	if c.cur.buf == nil {
		var tc <-chan time.Time
		if wait > 0 {
			c.timer.Reset(wait)
			defer c.timer.Stop()
			tc = c.timer.C
		}
		select {
		case ch, ok := <-c.chunks:
			if !ok {
				return 0, HostTime{}, ErrClosed
			}
			if ch.conn {
				return 0, ch.at, ErrNewConnection
			}
			c.cur, c.off = ch, 0
		case <-tc:
			return 0, HostTime{}, nil
		case <-ctx.Done():
			return 0, HostTime{}, ctx.Err()
		}
	}
	n := copy(p, c.cur.buf[c.off:c.cur.n])
	c.off += n
	at := c.cur.at
	if c.off == c.cur.n {
		c.free <- c.cur.buf
		c.cur = chunk{}
	}
	return n, at, nil
}

// Write sends p to the device, or returns ErrNotConnected while it is away.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.port == nil {
		return 0, ErrNotConnected
	}
	n, err := c.port.Write(p)
	if err != nil {
		return n, fmt.Errorf("serial: write %s: %w", c.cfg.Name, err)
	}
	return n, nil
}

// Connected reports whether the device is open now (false while it is
// away and the Conn tries to open it again).
func (c *Conn) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.port != nil
}

// Stats returns counts so far.
func (c *Conn) Stats() ConnStats {
	return ConnStats{Connects: c.connects.Load(), Losses: c.losses.Load(), Bytes: c.bytes.Load()}
}

// Close stops the connection: it runs OnClose, closes the port and waits
// for the reading goroutine (at most about one ReadTimeout).
func (c *Conn) Close() error {
	c.cancel()
	<-c.done
	return nil
}

func (c *Conn) run(ctx context.Context) {
	defer close(c.done)
	defer close(c.chunks)
	backoff := c.cfg.MinBackoff
	failures := 0
	for ctx.Err() == nil {
		p, id, err := c.connect(ctx)
		if err != nil {
			if failures == 0 {
				c.log.Warn("serial: cannot open device, retrying", "err", err, "backoff", backoff)
			} else {
				c.log.Debug("serial: open failed", "err", err, "backoff", backoff)
			}
			failures++
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, c.cfg.MaxBackoff)
			continue
		}
		if c.connects.Add(1) == 1 {
			c.log.Info("serial: connected")
		} else {
			c.log.Info("serial: reconnected", "attempts", failures+1)
		}
		failures, backoff = 0, c.cfg.MinBackoff
		select {
		case c.chunks <- chunk{conn: true, at: c.cfg.Now()}:
		case <-ctx.Done():
		}
		reason := c.readLoop(ctx, p, id)
		c.mu.Lock()
		c.port = nil
		c.mu.Unlock()
		if ctx.Err() != nil {
			if c.cfg.OnClose != nil {
				c.cfg.OnClose(p)
			}
			p.Close()
			return
		}
		p.Close()
		c.losses.Add(1)
		c.log.Warn("serial: device lost, reconnecting", "reason", reason, "backoff", backoff)
		if !sleep(ctx, backoff) {
			return
		}
	}
}

// connect opens the port and returns it with the identity of the device
// node its path named (nil where the path cannot be stat'ed, e.g. COM3 on
// Windows: then only a read error or hang-up ends the connection).
func (c *Conn) connect(ctx context.Context) (Port, os.FileInfo, error) {
	// tarm/serial hides the open file, so the node is identified by
	// stat'ing the path on both sides of the open: if the two disagree,
	// the path changed while we opened it and we cannot know which device
	// we got.
	before, _ := os.Stat(c.cfg.Name)
	p, err := OpenPort(c.cfg.Name, c.cfg.Baud, c.cfg.ReadTimeout)
	if err != nil {
		return nil, nil, err
	}
	id, _ := os.Stat(c.cfg.Name)
	if (before == nil) != (id == nil) || (id != nil && !sameDevice(before, id)) {
		p.Close()
		return nil, nil, fmt.Errorf("serial: %s: path changed while it was being opened", c.cfg.Name)
	}
	// Drop bytes queued before we opened: they are stale, and timestamping
	// a backlog as if it had just arrived would put it in the future.
	if f, ok := p.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			c.log.Debug("serial: flush on open failed", "err", err)
		}
	}
	if c.cfg.OnConnect != nil {
		if err := c.cfg.OnConnect(ctx, p); err != nil {
			p.Close()
			return nil, nil, fmt.Errorf("serial: %s: start: %w", c.cfg.Name, err)
		}
	}
	c.mu.Lock()
	c.port = p
	c.mu.Unlock()
	return p, id, nil
}

// readLoop reads p, opened as the device node id (nil: unknown), until ctx
// is done (nil) or the device is lost (the reason).
func (c *Conn) readLoop(ctx context.Context, p Port, id os.FileInfo) error {
	lastData := time.Now()
	idleLogged := false
	fastEOF := 0
	for {
		var buf []byte
		select {
		case buf = <-c.free:
		case <-ctx.Done():
			return nil
		}
		start := time.Now()
		n, err := p.Read(buf)
		now := time.Now()
		if n > 0 {
			c.bytes.Add(int64(n))
			select {
			case c.chunks <- chunk{buf: buf, n: n, at: c.cfg.Now()}:
			case <-ctx.Done():
				return nil
			}
			lastData, idleLogged, fastEOF = now, false, 0
			continue
		}
		c.free <- buf
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		// EOF (or 0, nil): a read timeout on an idle line, or a hang-up.
		if now.Sub(start) < c.cfg.ReadTimeout/2 {
			fastEOF++
			if fastEOF >= 3 {
				return errHangup
			}
			if !sleep(ctx, c.cfg.ReadTimeout/2) {
				return nil
			}
		} else {
			fastEOF = 0
		}
		if now.Sub(lastData) >= c.cfg.IdleCheck {
			if err := c.checkPath(id); err != nil {
				return err
			}
			if !idleLogged {
				c.log.Info("serial: line idle, device still present", "silent", now.Sub(lastData).Round(time.Millisecond))
				idleLogged = true
			}
		}
	}
}

// checkPath reports why the device path no longer leads to the device
// node id that was opened, or nil while it does. A node replaced within one
// idle check (device unplugged and plugged back, a by-id link re-pointed)
// leaves the old descriptor silent for ever without a read error, so path
// existence alone is not enough.
func (c *Conn) checkPath(id os.FileInfo) error {
	now, err := os.Stat(c.cfg.Name)
	if err != nil {
		return fmt.Errorf("device path gone: %w", err)
	}
	if id != nil && !sameDevice(id, now) {
		return errors.New("device path now names a different device (replugged)")
	}
	return nil
}

// sleep waits d or until ctx is done; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
