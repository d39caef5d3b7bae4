package bitalino

import (
	"math/rand/v2"

	"github.com/twitchd/twitchd/internal/decode/capture"
	"github.com/twitchd/twitchd/pipeline"
)

// Encoder plays a recording as a BITalino would, for device stand-ins
// (internal/simulate/device): frames for the channels the host's start
// command selects, with the sensors of Config on A1–A6: EMG sensors take
// the source's EMG channels in order, ACC sensors its accelerometer axis
// of the same letter. It implements serial.Encoder.
type Encoder struct {
	Config Config
	rate   int
	mask   byte
	src    [6]int
	raw    []int
}

// Rate implements serial.Encoder.
func (e *Encoder) Rate() float64 {
	if e.rate == 0 {
		return 1000
	}
	return float64(e.rate)
}

// Begin implements serial.Encoder.
func (e *Encoder) Begin(meta pipeline.Meta) error {
	emg, acc := capture.Pick(meta)
	ne := 0
	for i, s := range e.Config.Sensors {
		e.src[i] = -1
		switch s.Kind {
		case pipeline.KindEMG:
			if ne < len(emg) {
				e.src[i] = emg[ne]
				ne++
			}
		case pipeline.KindAcc:
			if s.Axis >= 'x' && s.Axis <= 'z' {
				e.src[i] = acc[s.Axis-'x']
			}
		}
	}
	e.rate, e.mask = e.Config.Rate, e.Config.Mask
	return nil
}

// Append implements serial.Encoder.
func (e *Encoder) Append(dst []byte, k int64, vals []float64) []byte {
	e.raw = e.raw[:0]
	for i := range 6 {
		if e.mask&(1<<i) == 0 {
			continue
		}
		s := e.Config.Sensors[i]
		bits := Bits(i)
		v := capture.Value(vals, e.src[i])
		switch s.Kind {
		case pipeline.KindEMG:
			e.raw = append(e.raw, ADCFromEMG(v, bits))
		case pipeline.KindAcc:
			cmin, cmax := s.Cmin, s.Cmax
			if cmin == 0 && cmax == 0 {
				cmin, cmax = DefaultCmin, DefaultCmax
				if bits == 6 {
					cmin, cmax = cmin/16, cmax/16
				}
			}
			e.raw = append(e.raw, ADCFromACC(v, cmin, cmax, bits))
		default:
			e.raw = append(e.raw, 1<<(bits-1))
		}
	}
	if len(e.raw) == 0 {
		return dst
	}
	return AppendFrame(dst, e.raw, byte(k), 0)
}

// Command implements serial.Encoder: 0x00 stop, 0x07 version, rate bytes
// (xx000011), start bytes (mask<<2 | 1).
func (e *Encoder) Command(dst []byte, c byte) ([]byte, int) {
	switch {
	case c == CmdStop:
		return dst, -1
	case c == CmdVersion:
		return append(dst, "BITalino_v5.2\n"...), 0
	case c&0x03 == 0x01:
		if m := c >> 2; m != 0 {
			e.mask = m
			return dst, 1
		}
	default:
		if r, ok := RateFromCommand(c); ok {
			e.rate = r
		}
	}
	return dst, 0
}

// Garbage implements serial.Encoder.
func (e *Encoder) Garbage(dst []byte, rng *rand.Rand) []byte { return capture.RandomBytes(dst, rng) }

// StreamsOnConnect implements serial.Encoder.
func (e *Encoder) StreamsOnConnect() bool { return false }

// KeepsStreaming implements serial.Encoder: a dropped Bluetooth link stops acquisition.
func (e *Encoder) KeepsStreaming() bool { return false }
