package pipeline

import (
	"fmt"
	"math"
)

// Kind says what a channel measures.
type Kind uint8

// Channel kinds.
const (
	KindOther Kind = iota // carried along but not analysed
	KindAcc               // accelerometer axis, in g
	KindEMG               // surface EMG, in millivolts
)

// String returns "other", "acc" or "emg".
func (k Kind) String() string {
	switch k {
	case KindAcc:
		return "acc"
	case KindEMG:
		return "emg"
	default:
		return "other"
	}
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	switch s {
	case "acc":
		return KindAcc, nil
	case "emg":
		return KindEMG, nil
	case "other":
		return KindOther, nil
	}
	return KindOther, fmt.Errorf("pipeline: unknown channel kind %q (want acc, emg or other)", s)
}

// Channel describes one column of a stream. Decoders convert values to the
// canonical unit of the kind before they reach a Processor: g for KindAcc
// and millivolts for KindEMG. Unit records that canonical unit; SourceUnit
// records what the device or file used.
type Channel struct {
	Name       string  // column or signal name as in the source, e.g. "acc_x", "emg"
	Kind       Kind    // what it measures
	Unit       string  // unit of the values in Frames ("g", "mV", or as found for KindOther)
	SourceUnit string  // unit in the source before conversion, informational
	RateHz     float64 // nominal sample rate; 0 when unknown
	Axis       byte    // 'x', 'y' or 'z' for accelerometer axes, 0 otherwise
	Group      string  // axes of one accelerometer share a Group (e.g. "acc"); empty otherwise
}

// Meta describes a stream. Sources fill in everything they know; the
// caller fills in Subject, Site and Session.
type Meta struct {
	File     string    // path or port the stream came from
	Format   string    // decoder name, e.g. "csv", "edf", "openbci-cyton"
	Subject  string    // person, possibly pseudonymised
	Site     string    // body location, e.g. "calf_left"
	Session  string    // stable identifier of this recording (used as an InfluxDB tag)
	Channels []Channel // one per value in a Frame, in order
}

// Frame is one sampling instant: a time and one value per channel, in the
// order of Meta.Channels. A channel sampled more slowly than others (EDF
// with mixed rates) holds NaN at instants where it has no sample; decoders
// never emit NaN for any other reason.
type Frame struct {
	Time   int64     // Unix nanoseconds, from the recording's clock
	Values []float64 // len(Meta.Channels) values
}

// NoSample marks a channel without a sample in a Frame.
var NoSample = math.NaN()

// IsNoSample reports whether v marks a missing sample.
func IsNoSample(v float64) bool { return v != v }

// Batch is a run of Frames that share one backing array. Sources fill a
// Batch handed to them; the Runner recycles Batches, so a Batch and the
// Values of its Frames must not be retained after Process returns.
type Batch struct {
	Frames   []Frame
	channels int
	store    []float64
}

// NewBatch returns a Batch for frames of n channels with room for cap frames.
func NewBatch(channels, capacity int) *Batch {
	b := &Batch{channels: channels}
	b.store = make([]float64, channels*capacity)
	b.Frames = make([]Frame, 0, capacity)
	return b
}

// Channels returns the number of values per frame.
func (b *Batch) Channels() int { return b.channels }

// Len returns the number of frames held.
func (b *Batch) Len() int { return len(b.Frames) }

// Full reports whether the batch has no room for another frame.
func (b *Batch) Full() bool { return len(b.Frames) == cap(b.Frames) }

// Reset empties the batch, keeping its storage.
func (b *Batch) Reset() { b.Frames = b.Frames[:0] }

// Append adds a frame at time t and returns its Values for the caller to
// fill. It panics if the batch is full: callers check Full first.
func (b *Batch) Append(t int64) []float64 {
	n := len(b.Frames)
	if n == cap(b.Frames) {
		panic("pipeline: Append to a full Batch")
	}
	v := b.store[n*b.channels : (n+1)*b.channels : (n+1)*b.channels]
	b.Frames = append(b.Frames, Frame{Time: t, Values: v})
	return v
}

// Unappend drops the last frame, for a decoder that rejects a line after
// it started filling it.
func (b *Batch) Unappend() {
	if len(b.Frames) > 0 {
		b.Frames = b.Frames[:len(b.Frames)-1]
	}
}
