// Package session wires one recording or live stream through twitchd's
// pipeline: a decoder as the Source, the detectors as a Processor, event
// stages such as the persistence rule, and the caller's sinks.
package session

import (
	"context"
	"log/slog"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/detect"
	"github.com/twitchd/twitchd/pipeline"
)

// Config holds what every session needs besides its source.
type Config struct {
	Subject string
	Site    string
	// Session overrides the derived session identifier.
	Session string
	// Speed paces replay: 0 as fast as possible, 1 real time, N times real time.
	Speed float64
	// Detect configures the detectors; the zero value means detect.Default().
	Detect *detect.Config
	// Stages transform the event stream before the sinks (the persistence rule).
	Stages []pipeline.EventStage
	// Sinks receive every event (events file, InfluxDB, collectors in tests).
	Sinks []pipeline.Sink
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
}

// Run processes src until it ends or ctx is cancelled.
func Run(ctx context.Context, src pipeline.Source, cfg Config) (pipeline.Result, error) {
	dc := detect.Default()
	if cfg.Detect != nil {
		dc = *cfg.Detect
	}
	if dc.Log == nil {
		dc.Log = cfg.Log
	}
	det, err := detect.New(dc)
	if err != nil {
		return pipeline.Result{}, err
	}
	r := &pipeline.Runner{
		Source:     src,
		Processors: []pipeline.Processor{det},
		Stages:     cfg.Stages,
		Sinks:      cfg.Sinks,
		Subject:    cfg.Subject,
		Site:       cfg.Site,
		Session:    cfg.Session,
		Speed:      cfg.Speed,
	}
	return r.Run(ctx)
}

// ReplayFile decodes the file at path (format detected when empty) and
// runs it as a session.
func ReplayFile(ctx context.Context, path, format string, opts decode.Options, cfg Config) (pipeline.Result, error) {
	f, err := decode.OpenFile(path, format, opts)
	if err != nil {
		return pipeline.Result{}, err
	}
	defer f.Close()
	return Run(ctx, f, cfg)
}
