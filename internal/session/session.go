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
	// Processors, when set, replace the detectors.
	Processors []pipeline.Processor
	// Stages transform the event stream before the sinks (the persistence rule).
	Stages []pipeline.EventStage
	// Sinks receive every event (events file, InfluxDB, collectors in tests).
	Sinks []pipeline.Sink
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
}

// Run processes src until it ends or ctx is cancelled.
func Run(ctx context.Context, src pipeline.Source, cfg Config) (pipeline.Result, error) {
	procs := cfg.Processors
	if procs == nil {
		det, err := Detectors(cfg.Detect, cfg.Log)
		if err != nil {
			return pipeline.Result{}, err
		}
		procs = []pipeline.Processor{det}
	}
	r := &pipeline.Runner{
		Source:     src,
		Processors: procs,
		Stages:     cfg.Stages,
		Sinks:      cfg.Sinks,
		Subject:    cfg.Subject,
		Site:       cfg.Site,
		Session:    cfg.Session,
		Speed:      cfg.Speed,
	}
	return r.Run(ctx)
}

// Detectors returns twitchd's detectors configured by dc (nil:
// detect.Default()), logging to log unless dc has a logger.
func Detectors(dc *detect.Config, log *slog.Logger) (*detect.Detector, error) {
	c := detect.Default()
	if dc != nil {
		c = *dc
	}
	if c.Log == nil {
		c.Log = log
	}
	return detect.New(c)
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
