package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Defaults of Drainer.
const (
	DefaultInterval    = 2 * time.Second
	DefaultMaxInterval = 5 * time.Minute
	DefaultChunk       = 20_000
)

// ErrInterrupted is returned by Drainer.Once when new records reached the
// spool while it was draining (the server failed again, or the sink's
// queue was full): the segment being drained is kept, since part of it
// may have gone back into the spool, and is sent again later.
var ErrInterrupted = errors.New("spool: drain interrupted: points went back into the spool")

// Target takes spooled lines back: the InfluxDB sink.
type Target interface {
	// WriteLines queues '\n'-terminated lines; it does not wait for the
	// network.
	WriteLines(lines []byte) error
	// Flush waits until everything queued before it is written, handed
	// back to the spool or given up; it returns ctx's error when ctx ends
	// first.
	Flush(ctx context.Context) error
}

// Drainer sends a spool's records back to a Target, oldest first, and
// deletes each segment once the Target has flushed all of it.
type Drainer struct {
	// Spool to drain and Target to send to. Required.
	Spool  *Spool
	Target Target
	// Ready reports whether the server answers; a drain is tried only
	// when it returns nil. Nil means always.
	Ready func(ctx context.Context) error
	// Interval between attempts while the spool is not empty (default
	// 2 s). After a failed attempt the wait doubles, up to MaxInterval
	// (default 5 min), so that a server that answers pings but refuses
	// writes (a missing database, bad credentials) does not make the
	// drainer copy records back into the spool every few seconds.
	Interval, MaxInterval time.Duration
	// Chunk is how many points are handed to the Target between Flushes
	// (default 20 000), so that a drain never fills the sink's queue.
	Chunk int
}

// Run drains the spool whenever it holds records and Ready allows, until
// ctx ends. It returns nil then.
func (d *Drainer) Run(ctx context.Context) {
	iv, maxIv := d.Interval, d.MaxInterval
	if iv <= 0 {
		iv = DefaultInterval
	}
	if maxIv < iv {
		maxIv = max(DefaultMaxInterval, iv)
	}
	wait := iv
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !d.Spool.Empty() {
			if d.Ready == nil || d.Ready(ctx) == nil {
				if err := d.Once(ctx); err != nil && ctx.Err() == nil {
					wait = min(2*wait, maxIv)
					d.Spool.log.Debug("spool: drain stopped, will retry", "err", err, "in", wait)
				} else {
					wait = iv
				}
			}
		}
		t.Reset(wait)
	}
}

// Once drains every segment the spool holds now, oldest first, and
// returns nil when it is empty. It stops with ErrInterrupted when new
// records reach the spool meanwhile, with ctx's error when ctx ends, and
// with the Target's error when WriteLines fails. A segment is deleted
// only after the Target's Flush returned without ctx ending; a Flush
// reporting points lost (rejected by the server) still deletes it, since
// those are counted by the Target and retrying cannot help them.
func (d *Drainer) Once(ctx context.Context) error {
	chunk := d.Chunk
	if chunk <= 0 {
		chunk = DefaultChunk
	}
	for {
		seg, err := d.Spool.oldest()
		if err != nil || seg == nil {
			return err
		}
		since := d.Spool.appendedSince()
		err = d.segment(ctx, seg, chunk, since)
		remove := err == nil
		if derr := d.Spool.done(seg, remove); derr != nil && err == nil {
			err = derr
		}
		if err != nil {
			return err
		}
		d.Spool.log.Info("spool: segment sent", "file", seg.path, "points", seg.points)
	}
}

// segment sends one segment's records and flushes them.
func (d *Drainer) segment(ctx context.Context, seg *segment, chunk int, since <-chan struct{}) error {
	f, err := os.Open(seg.path)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	// The first record is flushed on its own: if the server fails again,
	// only that record goes back into the spool a second time.
	pending, first := 0, true
	flush := func() error {
		pending = 0
		// Any other error of Flush reports points the Target counted as
		// lost (rejected by the server): retrying cannot help them.
		_ = d.Target.Flush(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-since:
			return ErrInterrupted
		default:
		}
		return nil
	}
	_, _, _, err = scan(f, func(p []byte) error {
		if err := d.Target.WriteLines(p); err != nil {
			select {
			case <-since: // handed back to the spool: not lost
				return ErrInterrupted
			default:
				return fmt.Errorf("spool: resend: %w", err)
			}
		}
		pending += countLines(p)
		if pending >= chunk || first {
			first = false
			return flush()
		}
		return nil
	})
	if err != nil {
		// Open truncated torn tails, and sealed segments are never
		// written again, so errTorn here means the disk changed under us.
		return err
	}
	return flush()
}

// ServerWait is how long Final waits for a server that is not answering
// before it leaves the spool to the next start.
const ServerWait = 10 * time.Second

// Final sends what the spool holds at the end of a run, until ctx ends:
// the server may be coming back just as the stream ends, so it waits up
// to wait (ServerWait when 0, and never past ctx) for Ready, then drains,
// trying again every second after a failure. It returns nil once the
// spool is empty, and otherwise why not; what is left stays on disk for
// the next start, and is logged as such. Call it after Run has returned.
func (d *Drainer) Final(ctx context.Context, wait time.Duration) error {
	if d.Spool.Empty() {
		return nil
	}
	if wait <= 0 {
		wait = ServerWait
	}
	waitUntil := time.Now().Add(wait)
	var err error
	for {
		if d.Ready == nil || d.Ready(ctx) == nil {
			if err = d.Once(ctx); err == nil {
				return nil
			}
		} else {
			err = errors.New("server not answering")
			if !time.Now().Before(waitUntil) {
				d.Spool.log.Warn("spool: server not answering; the next start sends the spool")
				return err
			}
		}
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			d.Spool.log.Warn("spool: not all of it was sent; the next start sends the rest", "err", err)
			return err
		case <-t.C:
		}
	}
}
