package recplot

import (
	"math"

	"github.com/twitchd/twitchd/internal/detect"
	"github.com/twitchd/twitchd/internal/dsp"
)

// Trace is a signal reduced to its minimum and maximum per time bucket
// (about Buckets of them over the time shown), so that a recording of
// any length is drawn from bounded memory. Env, when set, is the
// maximum of an envelope per bucket.
type Trace struct {
	Name, Unit string
	// T is each bucket's start (Unix ns); Lo and Hi its minimum and
	// maximum, NaN for a bucket without samples.
	T      []int64
	Lo, Hi []float64
	Env    []float64
}

// Buckets is about how many columns a trace keeps: more than a picture
// has pixels across.
const Buckets = 2000

// buckets accumulates min/max per bucket, doubling the bucket width when
// more than 2*Buckets would be needed.
type buckets struct {
	t0, width int64
	started   bool
	lo, hi    []float64
	env       []float64
	hasEnv    bool
}

func newBuckets(width int64, env bool) *buckets {
	return &buckets{width: max(width, 1), hasEnv: env}
}

func (b *buckets) add(t int64, v, env float64) {
	if !b.started {
		b.t0, b.started = t, true
	}
	i := int((t - b.t0) / b.width)
	for i >= 2*Buckets {
		b.halve()
		i = int((t - b.t0) / b.width)
	}
	for len(b.lo) <= i {
		b.lo, b.hi = append(b.lo, math.NaN()), append(b.hi, math.NaN())
		if b.hasEnv {
			b.env = append(b.env, math.NaN())
		}
	}
	if math.IsNaN(b.lo[i]) || v < b.lo[i] {
		b.lo[i] = v
	}
	if math.IsNaN(b.hi[i]) || v > b.hi[i] {
		b.hi[i] = v
	}
	if b.hasEnv && (math.IsNaN(b.env[i]) || env > b.env[i]) {
		b.env[i] = env
	}
}

// halve merges neighbouring buckets in pairs and doubles the width.
func (b *buckets) halve() {
	n := (len(b.lo) + 1) / 2
	for k := 0; k < n; k++ {
		j := 2 * k
		b.lo[k], b.hi[k] = b.lo[j], b.hi[j]
		if b.hasEnv {
			b.env[k] = b.env[j]
		}
		if j+1 < len(b.lo) {
			b.lo[k], b.hi[k] = nanMin(b.lo[k], b.lo[j+1]), nanMax(b.hi[k], b.hi[j+1])
			if b.hasEnv {
				b.env[k] = nanMax(b.env[k], b.env[j+1])
			}
		}
	}
	b.lo, b.hi = b.lo[:n], b.hi[:n]
	if b.hasEnv {
		b.env = b.env[:n]
	}
	b.width *= 2
}

func nanMin(a, b float64) float64 {
	if math.IsNaN(a) || b < a {
		return b
	}
	return a
}

func nanMax(a, b float64) float64 {
	if math.IsNaN(a) || b > a {
		return b
	}
	return a
}

func (b *buckets) trace(name, unit string) Trace {
	tr := Trace{Name: name, Unit: unit, Lo: b.lo, Hi: b.hi}
	if b.hasEnv {
		tr.Env = b.env
	}
	tr.T = make([]int64, len(b.lo))
	for i := range tr.T {
		tr.T[i] = b.t0 + int64(i)*b.width
	}
	return tr
}

// emgFront filters one EMG channel as the detector does: a Butterworth
// band-pass, a comb notch at the mains frequency it finds in 2 s blocks,
// and the twitch envelope (a short moving RMS).
type emgFront struct {
	bp, notch *dsp.SOS
	mains     *dsp.MainsDetector
	mbuf      []float64
	mfill     int
	mainsHz   float64
	env       *dsp.MovingRMS
	cfg       detect.Config
	fs        float64
}

func newEMGFront(fs float64) (*emgFront, error) {
	cfg := detect.Default()
	bp, err := dsp.ButterBandpass(cfg.EMGOrder, cfg.EMGLow, math.Min(cfg.EMGHigh, 0.45*fs), fs)
	if err != nil {
		return nil, err
	}
	e := &emgFront{bp: bp, cfg: cfg, fs: fs, env: dsp.NewMovingRMS(max(2, int(math.Round(cfg.FastRMS*fs))))}
	if 50 < 0.45*fs {
		n := 256
		for float64(n) < cfg.MainsWindow*fs {
			n *= 2
		}
		e.mains, e.mbuf = dsp.NewMainsDetector(n, fs), make([]float64, n)
	}
	return e, nil
}

// step filters one sample and returns it with its envelope.
func (e *emgFront) step(x float64) (y, env float64) {
	y = e.bp.Step(x)
	if e.mains != nil {
		e.mbuf[e.mfill] = y
		if e.mfill++; e.mfill == len(e.mbuf) {
			e.mfill = 0
			if f, _ := e.mains.Detect(e.mbuf, 6); f > 0 && f != e.mainsHz {
				e.mainsHz = f
				e.notch, _ = dsp.CombNotch(f, e.cfg.MainsHarmonics, e.cfg.MainsQ, e.fs)
			}
		}
	}
	if e.notch != nil {
		y = e.notch.Step(y)
	}
	return y, e.env.Step(y)
}
