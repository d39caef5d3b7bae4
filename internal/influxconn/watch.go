package influxconn

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Watch pings a server at a fixed interval, so that an outage shows in
// /healthz even while nothing is being written.
type Watch struct {
	last   atomic.Pointer[string] // the last ping's error, "" when it answered
	cancel context.CancelFunc
	done   chan struct{}
}

// Watch starts pinging c every interval (each ping bounded by it too)
// until Stop.
func (c *Conn) Watch(every time.Duration) *Watch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			msg := ""
			pctx, pcancel := context.WithTimeout(ctx, every)
			if err := c.Ping(pctx); err != nil && ctx.Err() == nil {
				msg = err.Error()
			}
			pcancel()
			w.last.Store(&msg)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// Check returns an error when the last ping got no answer.
func (w *Watch) Check() error {
	if e := w.last.Load(); e != nil && *e != "" {
		return fmt.Errorf("influxdb: write failing: not answering: %s", *e)
	}
	return nil
}

// Stop ends the pings and waits for the one in flight.
func (w *Watch) Stop() {
	w.cancel()
	<-w.done
}
