package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twitchd/twitchd/internal/health"
	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/metrics"
)

// PingEvery is how often /healthz's watch asks InfluxDB whether it
// answers, so that an outage shows even while nothing is being written.
const PingEvery = time.Second

// ErrHealth is wrapped by Run's error when the health endpoint cannot
// be served at the configured address (not loopback, in use).
var ErrHealth = errors.New("--listen")

// serveHealth starts /healthz and /metrics when an address is set; the
// returned function stops them. /healthz reports, in this order: reading
// (the meter), InfluxDB answering its ping, the sink's writes, the
// spool's room. /metrics has every component's own metrics.
func serveHealth(cfg Health, out *outputs, extra metrics.Collector, log *slog.Logger) (func(), error) {
	if cfg.Addr == "" {
		return func() {}, nil
	}
	checks := []func() error{out.meter.Check}
	all := metrics.Collectors{out.meter, extra}
	var watch *influxconn.Watch
	if out.conn != nil {
		watch = out.conn.Watch(PingEvery)
		checks = append(checks, watch.Check, out.influx.Check)
		all = append(all, out.influx)
	}
	if out.spool != nil {
		checks = append(checks, out.spool.spool.Check)
		all = append(all, out.spool.spool)
	}
	srv, err := health.Listen(health.Config{Addr: cfg.Addr, AllowAny: cfg.AllowAny, Check: firstError(checks), Metrics: all})
	if err != nil {
		if watch != nil {
			watch.Stop()
		}
		return nil, fmt.Errorf("%w: %w", ErrHealth, err)
	}
	log.Info("serving /healthz and /metrics", "addr", srv.Addr())
	return func() {
		if watch != nil {
			watch.Stop()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	}, nil
}

// firstError returns a check that runs checks in order and returns the
// first error.
func firstError(checks []func() error) func() error {
	return func() error {
		for _, c := range checks {
			if err := c(); err != nil {
				return err
			}
		}
		return nil
	}
}
