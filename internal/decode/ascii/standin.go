package ascii

import (
	"math/rand/v2"
	"strconv"

	"github.com/twitchd/twitchd/internal/decode/capture"
	"github.com/twitchd/twitchd/pipeline"
)

// DefaultStandInRate is the line rate of a stand-in whose settings give none.
const DefaultStandInRate = 250

// Encoder plays a recording as an Arduino printing ASCII lines would,
// for device stand-ins (internal/simulate/device): one line per frame,
// an optional millisecond counter, then name:value pairs of every source
// channel (mV, g), tab-separated. It implements serial.Encoder.
type Encoder struct {
	Hz      float64
	Counter bool
	names   []string
}

// Rate implements serial.Encoder.
func (e *Encoder) Rate() float64 { return e.Hz }

// Begin implements serial.Encoder.
func (e *Encoder) Begin(meta pipeline.Meta) error {
	for _, c := range meta.Channels {
		e.names = append(e.names, c.Name)
	}
	return nil
}

// Append implements serial.Encoder.
func (e *Encoder) Append(dst []byte, k int64, vals []float64) []byte {
	if e.Counter {
		dst = strconv.AppendInt(dst, int64(float64(k)*1000/e.Hz), 10)
		dst = append(dst, '\t')
	}
	for i, n := range e.names {
		if i > 0 {
			dst = append(dst, '\t')
		}
		dst = append(dst, n...)
		dst = append(dst, ':')
		dst = strconv.AppendFloat(dst, capture.Value(vals, i), 'g', 8, 64)
	}
	return append(dst, '\r', '\n')
}

// Command implements serial.Encoder: an Arduino sketch ignores input.
func (e *Encoder) Command(dst []byte, c byte) ([]byte, int) { return dst, 0 }

// Garbage implements serial.Encoder: a line of noise.
func (e *Encoder) Garbage(dst []byte, rng *rand.Rand) []byte {
	n := 1 + rng.IntN(16)
	for range n {
		dst = append(dst, byte('!'+rng.IntN(90)))
	}
	return append(dst, '\n')
}

// StreamsOnConnect implements serial.Encoder.
func (e *Encoder) StreamsOnConnect() bool { return true }

// KeepsStreaming implements serial.Encoder.
func (e *Encoder) KeepsStreaming() bool { return true }
