package ingest

import (
	"fmt"

	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/internal/spool"
	"github.com/twitchd/twitchd/pipeline"
)

// Result is what a run gave: one StreamResult per file or live stream,
// and what InfluxDB and the spool took, counted after the final flush.
type Result struct {
	Streams []StreamResult
	// Influx is the sink's final count, nil without InfluxDB.
	Influx *influx.Stats
	// Spool is the spool's final state, nil without a spool.
	Spool *SpoolReport
}

// Failed returns how many streams failed.
func (r *Result) Failed() int {
	n := 0
	for _, s := range r.Streams {
		if s.Err != nil {
			n++
		}
	}
	return n
}

// LostError returns an error when points did not reach InfluxDB and were
// not spooled either (rejected, given up or dropped); nil otherwise.
func (r *Result) LostError() error {
	if r.Influx == nil || r.Influx.Lost() == 0 {
		return nil
	}
	return fmt.Errorf("%d points did not reach InfluxDB", r.Influx.Lost())
}

// StreamResult is what one file or live stream gave.
type StreamResult struct {
	// Name is the file's path or the device's port.
	Name string
	// Result is the pipeline's: summary, meta, sink errors, events by
	// type. Summary.File is empty when the stream never started (a file
	// that could not be opened or decoded).
	pipeline.Result
	// Err is why the stream failed, nil when it did not (a stream
	// stopped by the context did not fail).
	Err error
	// Influx counts what became of the points given to InfluxDB during
	// this stream, as far as known at its end (some may still be queued);
	// nil without InfluxDB.
	Influx *InfluxCounts
	// Verdicts are the last assessment of each subject and site, in the
	// order they were first seen.
	Verdicts []*pipeline.Assessment
	// Serial reports a live device's connection; nil for a file.
	Serial *SerialStats
}

// InfluxCounts count points by fate (see influx.Stats).
type InfluxCounts struct {
	Written, Rejected, Failed, Dropped, Retries int64
}

// SerialStats is what a live device's connection and stream counted.
type SerialStats struct {
	Conn   serial.ConnStats
	Stream serial.StreamStats
}

// SpoolReport is the spool's state at the end of a run.
type SpoolReport struct {
	// Dir is the spool directory of the run's InfluxDB URL and bucket.
	Dir string
	// Spooled counts the points the sink handed to the spool in this run.
	Spooled int64
	spool.Stats
}
