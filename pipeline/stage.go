package pipeline

import (
	"context"
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by errors about a bad line, record or frame in
// the input, so callers can tell bad data from a broken stream.
var ErrMalformed = errors.New("malformed input")

// LineError locates bad input: a line (text formats) or a byte offset
// (binary formats) in a named file.
type LineError struct {
	File   string
	Line   int64 // 1-based line number, 0 when not applicable
	Offset int64 // byte offset, -1 when not applicable
	Reason string
	Err    error // underlying cause, may be nil
}

// Error implements error as "file:line: reason" or "file: byte N: reason".
func (e *LineError) Error() string {
	var where string
	switch {
	case e.Line > 0:
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	case e.Offset >= 0:
		where = fmt.Sprintf("%s: byte %d", e.File, e.Offset)
	default:
		where = e.File
	}
	if e.Err != nil && e.Reason == "" {
		return where + ": " + e.Err.Error()
	}
	if e.Err != nil {
		return where + ": " + e.Reason + ": " + e.Err.Error()
	}
	return where + ": " + e.Reason
}

// Unwrap lets errors.Is(err, ErrMalformed) succeed.
func (e *LineError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrMalformed, e.Err}
	}
	return []error{ErrMalformed}
}

// MaxExamples is how many skipped-line examples SourceStats keeps.
const MaxExamples = 5

// SourceStats counts what a Source read and what it had to skip.
type SourceStats struct {
	Frames   int64        // frames delivered
	Skipped  int64        // lines, records or frames skipped as malformed
	Lost     int64        // samples the device reported but never delivered (counter gaps)
	Examples []*LineError // the first MaxExamples skipped, with their reasons
	// Segment numbers the part of a live stream the counts are of (1,
	// 2, ...) for a source that splits its stream at host clock steps
	// (see ErrEndOfSegment); 0 for one that does not.
	Segment int
	// ClockStep is the step of the host's wall clock (ns, positive
	// forward) that ended the segment, once Next returned
	// ErrEndOfSegment; 0 otherwise.
	ClockStep int64
}

// ErrEndOfSegment is returned by a live Source's Next to end a segment
// of its stream: the host clock stepped too far to slew it out, and the
// frames after the step follow the stepped clock, so they may lie before
// the ones already delivered. The Runner ends the run as at io.EOF (the
// summary carries Segment and ClockStep); calling Next again, in a new
// run, delivers the next segment.
var ErrEndOfSegment = errors.New("pipeline: end of segment (host clock step)")

// Skip records one skipped input.
func (s *SourceStats) Skip(e *LineError) {
	s.Skipped++
	if len(s.Examples) < MaxExamples {
		s.Examples = append(s.Examples, e)
	}
}

// Source produces frames. A decoder reading a file or a serial port is a
// Source. Next is called from one goroutine.
type Source interface {
	// Meta describes the stream; it is valid once the Source is constructed.
	Meta() Meta
	// Next resets b and fills it with up to its capacity of frames, in
	// time order. It returns io.EOF, with b empty, when the stream ends, and
	// returns early with what it has when ctx is cancelled or a live source
	// has nothing more for now. Bad records are skipped and counted unless
	// the source is strict, in which case Next returns a *LineError.
	Next(ctx context.Context, b *Batch) error
	// Stats reports counts so far.
	Stats() SourceStats
}

// Emit hands an event downstream.
type Emit func(Event)

// Processor turns frames into events. Processors run on one goroutine, in
// the order given to the Runner, each seeing every batch.
type Processor interface {
	// Begin is called once before the first batch.
	Begin(meta Meta, emit Emit) error
	// Process handles one batch. It must not retain b or its frames.
	Process(b *Batch) error
	// End is called once when the stream stops, with the time of the last
	// frame (Unix ns); it closes open events and emits them.
	End(last int64) error
}

// EventStage transforms the stream of events between the processors and
// the sinks: the persistence rule, for one, watches twitches and bouts
// and adds assessments.
type EventStage interface {
	// Begin is called once before any event of a stream.
	Begin(meta Meta) error
	// Handle receives one event and emits it, and any events it causes.
	Handle(ev Event, emit Emit)
	// End is called once after the last event of a stream, before its Summary.
	End(last Timestamp, emit Emit)
}

// Sink receives the final events. Write is called from one goroutine and
// must not block on the network for long: a sink that talks to a server
// queues and reports what it could not deliver.
type Sink interface {
	// Write takes one event.
	Write(ev Event) error
	// Flush delivers or durably queues everything written so far; it
	// blocks until then or until ctx is done.
	Flush(ctx context.Context) error
}
