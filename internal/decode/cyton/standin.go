package cyton

import (
	"math/rand/v2"

	"github.com/twitchd/twitchd/internal/decode/capture"
	"github.com/twitchd/twitchd/pipeline"
)

// Encoder plays a recording as a Cyton would, for device stand-ins
// (internal/simulate/device): the source's EMG channels (mV) on exg0..,
// its first accelerometer on the aux bytes every 10th packet (zeros
// between, as the firmware sends), footer 0xC0. It implements
// serial.Encoder.
type Encoder struct {
	Gain float64
	emg  []int
	acc  [3]int
	exg  [Channels]int32
}

// Rate implements serial.Encoder.
func (e *Encoder) Rate() float64 { return Rate }

// Begin implements serial.Encoder.
func (e *Encoder) Begin(meta pipeline.Meta) error {
	e.emg, e.acc = capture.Pick(meta)
	if len(e.emg) > Channels {
		e.emg = e.emg[:Channels]
	}
	return nil
}

// Append implements serial.Encoder.
func (e *Encoder) Append(dst []byte, k int64, vals []float64) []byte {
	for i := range e.exg {
		e.exg[i] = 0
		if i < len(e.emg) {
			e.exg[i] = Counts(capture.Value(vals, e.emg[i])*1000, e.Gain)
		}
	}
	var a [3]int16
	if k%10 == 0 {
		for i := range a {
			a[i] = AccelCounts(capture.Value(vals, e.acc[i]))
		}
		if a == [3]int16{} {
			a[2] = 1 // all zero would read as "no new data"
		}
	}
	return AppendPacket(dst, byte(k), &e.exg, a, 0xC0)
}

// Command implements serial.Encoder: v (banner), b (start), s (stop).
func (e *Encoder) Command(dst []byte, c byte) ([]byte, int) {
	switch c {
	case CmdReset:
		return append(dst, Banner...), -1
	case CmdStart:
		return dst, 1
	case CmdStop:
		return dst, -1
	}
	return dst, 0
}

// Garbage implements serial.Encoder.
func (e *Encoder) Garbage(dst []byte, rng *rand.Rand) []byte { return capture.RandomBytes(dst, rng) }

// StreamsOnConnect implements serial.Encoder.
func (e *Encoder) StreamsOnConnect() bool { return false }

// KeepsStreaming implements serial.Encoder: the board streams on over the radio.
func (e *Encoder) KeepsStreaming() bool { return true }
