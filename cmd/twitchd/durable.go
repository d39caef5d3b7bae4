package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/twitchd/twitchd/internal/ingest"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/internal/spool"
)

// Durability defaults of replay and run.
const (
	closeTimeout      = ingest.CloseTimeout
	finalDrainTimeout = ingest.FinalDrain
	stopDrainTimeout  = ingest.StopDrain
)

// durable is the spool of one command run and its drainer.
type durable struct {
	spool  *spool.Spool
	drain  *spool.Drainer
	cancel context.CancelFunc
	wg     sync.WaitGroup
	log    *slog.Logger
}

// openSpool opens the spool for cfg's target and makes it the sink's
// overflow. It returns nil without a spool directory.
func openSpool(c *ingest.Config, cfg *influx.Config, log *slog.Logger) (*durable, error) {
	if c.Spool.Root == "" {
		return nil, nil
	}
	dir := c.Influx.SpoolDir(c.Spool.Root)
	sp, err := spool.Open(spool.Config{Dir: dir, MaxBytes: c.Spool.MaxBytes, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("%w (give --spool-dir a writable directory, or --spool-dir= to run without a spool)", err)
	}
	// For people looking into the directory: where its points go.
	_ = os.WriteFile(filepath.Join(dir, "TARGET"), []byte(c.Influx.Target()), 0o600)
	cfg.SetOverflow(influx.OverflowFunc(func(_ influx.Reason, lines []byte, n int) error {
		return sp.Append(lines, n)
	}))
	if st := sp.Stats(); st.Pending > 0 || st.TornTails > 0 {
		log.Warn("spool: points from an earlier run will be sent", "points", st.Pending, "dir", dir, "torn_tails", st.TornTails)
	}
	return &durable{spool: sp, log: log}, nil
}

// start runs the drainer in the background: at once (the points of an
// earlier run), then whenever the spool holds points and ping answers.
func (du *durable) start(sink *influx.Sink, ping func(context.Context) error, every time.Duration) {
	if du == nil {
		return
	}
	du.drain = &spool.Drainer{Spool: du.spool, Target: sink, Ready: ping, Interval: every}
	ctx, cancel := context.WithCancel(context.Background())
	du.cancel = cancel
	du.wg.Add(1)
	go func() {
		defer du.wg.Done()
		du.drain.Run(ctx)
	}()
}

// stop ends the background drainer, then sends what the spool holds if
// the server answers, for at most final.
func (du *durable) stop(final time.Duration) {
	if du == nil || du.cancel == nil {
		return
	}
	du.cancel()
	du.wg.Wait()
	if final <= 0 || du.spool.Empty() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), final)
	defer cancel()
	_ = du.drain.Final(ctx, 0)
}

// close closes the spool, after the sink.
func (du *durable) close() error {
	if du == nil {
		return nil
	}
	return du.spool.Close()
}
