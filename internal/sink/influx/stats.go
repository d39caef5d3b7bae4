package influx

import (
	"errors"
	"fmt"
	"time"
)

// Errors a caller may act on.
var (
	// ErrQueueFull is wrapped by Write's error when the queue had no room
	// for an event's points and no Overflow took them.
	ErrQueueFull = errors.New("influx: queue full")
	// ErrClosed is returned by Write after Close.
	ErrClosed = errors.New("influx: sink closed")
	// ErrConfig is wrapped by the error a Sink keeps (ConfigErr) once the
	// server refused its credentials (401, 403) or the server's
	// certificate could not be verified: retrying cannot fix that, so the
	// sink stops writing and hands every point to its Overflow (or counts
	// it as failed) until it is built again with a fixed configuration.
	ErrConfig = errors.New("influxdb: configuration error")
)

// LatencyBuckets are the upper bounds, in seconds, of the buckets of
// Stats.LatencyHist: fine around the flush interval (1 s by default),
// where most points fall, coarse beyond.
var LatencyBuckets = [...]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
	1, 1.1, 1.25, 1.5, 2, 3, 5, 10, 30, 60, 120}

// MaxErrors is how many errors Stats keeps, the first ones.
const MaxErrors = 5

// Stats counts what happened to every point given to a Sink. At any time
//
//	Points == Written + Rejected + Failed + Dropped + Overflowed + Queued
type Stats struct {
	// Points is the number of points Write was given (one per event).
	Points int64
	// Written points were acknowledged by the server.
	Written int64
	// Rejected points were refused by the server as bad (unparseable, a
	// field type conflict, beyond the retention policy) or could not be
	// encoded. Retrying them cannot help.
	Rejected int64
	// Failed points were given up: their retries ran out, the server
	// refused the request itself (authentication, unknown bucket) or the
	// sink was closed first, and no Overflow took them.
	Failed int64
	// Dropped points found the queue full and no Overflow took them.
	Dropped int64
	// Overflowed points could not be delivered and were taken by Overflow.
	Overflowed int64
	// Queued points wait to be written or are being written.
	Queued int64

	// Requests counts write requests sent, retries and bisection included.
	Requests int64
	// Retries counts requests repeated after a timeout, a connection
	// error, a 5xx or a 429 (only without an Overflow).
	Retries int64
	// CircuitOpens counts the times a failed write opened the circuit,
	// CircuitOpenSince is when the open one opened (zero while closed),
	// and Probes counts the pings sent while it was open.
	CircuitOpens     int64
	CircuitOpenSince time.Time
	Probes           int64
	// ConfigErr is the configuration error (wrapping ErrConfig) that made
	// the sink stop writing, nil when there was none.
	ConfigErr error
	// Batches counts batches taken from the queue and finished.
	Batches int64

	// LatencyLast, LatencyMax and LatencyMean measure written points from
	// Write to the server's acknowledgement.
	LatencyLast, LatencyMax, LatencyMean time.Duration
	// LatencySum and LatencyCount add up the latencies of written points
	// and count them; LatencyHist counts them by bucket of
	// LatencyBuckets (for a Prometheus histogram): LatencyHist[i] those
	// in (LatencyBuckets[i-1], LatencyBuckets[i]] seconds, the last
	// element those above the last bound.
	LatencySum   time.Duration
	LatencyCount int64
	LatencyHist  [len(LatencyBuckets) + 1]int64

	// LastAnswer is when the server last answered a write (written or
	// rejected), LastFailure when a write last failed (no answer, a 5xx or
	// 429, or a refused request) and LastFailureErr why. The server is
	// taken as healthy when LastFailure is zero or before LastAnswer.
	LastAnswer, LastFailure time.Time
	LastFailureErr          error

	// Errors holds the first MaxErrors errors behind rejected, failed and
	// dropped points.
	Errors []error
}

// Healthy reports whether the last write request got an answer (or none
// failed yet).
func (s Stats) Healthy() bool { return s.LastFailure.IsZero() || s.LastAnswer.After(s.LastFailure) }

// Lost returns the points that did not reach InfluxDB and were not taken
// by Overflow.
func (s Stats) Lost() int64 { return s.Rejected + s.Failed + s.Dropped }

// String summarises s on one line.
func (s Stats) String() string {
	return fmt.Sprintf("influx: %d points: %d written, %d rejected, %d failed, %d dropped, %d overflowed, %d queued; "+
		"%d requests, %d retries, %d batches; latency mean %v max %v",
		s.Points, s.Written, s.Rejected, s.Failed, s.Dropped, s.Overflowed, s.Queued,
		s.Requests, s.Retries, s.Batches, s.LatencyMean.Round(time.Millisecond), s.LatencyMax.Round(time.Millisecond))
}

// LossError reports points that Flush or Close found lost since the
// previous Flush: rejected by the server, failed after retries, or
// dropped on a full queue.
type LossError struct {
	Rejected, Failed, Dropped int64
	// First is the first error behind them, nil if not kept.
	First error
}

// Error implements error.
func (e *LossError) Error() string {
	msg := fmt.Sprintf("influx: %d points not written (%d rejected by the server, %d failed after retries, %d dropped on a full queue)",
		e.Rejected+e.Failed+e.Dropped, e.Rejected, e.Failed, e.Dropped)
	if e.First != nil {
		msg += ": first error: " + e.First.Error()
	}
	return msg
}

// Unwrap returns the first error.
func (e *LossError) Unwrap() error { return e.First }

// Reason says why points were handed to Overflow.
type Reason uint8

// Reasons for Overflow.
const (
	// ReasonQueueFull: the queue had no room when Write was called.
	ReasonQueueFull Reason = iota + 1
	// ReasonGaveUp: retries ran out, or the server refused the request
	// itself (authentication, unknown bucket).
	ReasonGaveUp
	// ReasonClosed: the sink was closed before they could be written.
	ReasonClosed
	// ReasonOutage: a write failed (no answer, a 5xx or 429) or the
	// circuit was open: the server is failing.
	ReasonOutage
	// ReasonConfig: the server refused the credentials or its
	// certificate could not be verified (see ErrConfig).
	ReasonConfig
)

// String returns "queue full", "gave up", "closed", "outage" or
// "configuration error".
func (r Reason) String() string {
	switch r {
	case ReasonQueueFull:
		return "queue full"
	case ReasonGaveUp:
		return "gave up"
	case ReasonClosed:
		return "closed"
	case ReasonOutage:
		return "outage"
	case ReasonConfig:
		return "configuration error"
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// Overflow takes points a Sink could not deliver, e.g. to spool them on
// disk for later.
type Overflow interface {
	// Overflow is handed n points as line protocol, each line ending in
	// '\n', and the reason. It returns nil when it took them all (they
	// count as Overflowed) and an error when it took none (they count as
	// Dropped or Failed). lines is valid only during the call. Overflow is
	// called from Write (ReasonQueueFull) and from the sink's writer
	// (the others), possibly at the same time; it should not block long,
	// since Write waits for it.
	Overflow(reason Reason, lines []byte, n int) error
}

// OverflowFunc adapts a function to Overflow.
type OverflowFunc func(reason Reason, lines []byte, n int) error

// Overflow calls f.
func (f OverflowFunc) Overflow(reason Reason, lines []byte, n int) error { return f(reason, lines, n) }
