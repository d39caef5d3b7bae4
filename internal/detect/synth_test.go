package detect

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

// synth builds a synthetic recording for the detector's tests: surface
// EMG (mV) and a three-axis accelerometer (g) made of the parts a test
// lists, each a function of time added to the signal. It is deliberately
// simpler than internal/simulate and independent of it: a test states the
// one thing it is about.
type synth struct {
	emgHz, accHz float64 // 0: no such sensor
	seconds      float64
	seed         uint64

	emgNoise float64 // mV RMS, white
	emgStep  float64 // ADC step in mV, 0 for none
	accNoise float64 // g RMS per axis
	accStep  float64 // g, 0 for none
	gravity  [3]float64

	emg []func(t float64) float64                    // EMG parts, mV
	acc []func(t float64, rng *rand.Rand) [3]float64 // dynamic acceleration parts, g

	probe func(d *Detector, t float64) // called after every batch, if set
}

// truth is a labelled twitch.
type truth struct{ t float64 }

// potential adds a biphasic potential of peak amp (mV) and length dur (s) at t0.
func (s *synth) potential(t0, amp, dur float64) {
	s.emg = append(s.emg, func(t float64) float64 {
		if d := t - t0; d >= 0 && d < dur {
			return amp * math.Sin(2*math.Pi*d/dur)
		}
		return 0
	})
}

// strides adds EMG bursts of length burst (s) and RMS amp (mV) at cadence f
// (Hz) from a to b, with a few per cent of jitter in each cycle.
func (s *synth) strides(a, b, f, burst, amp float64) {
	rng := rand.New(rand.NewPCG(s.seed+11, uint64(a*1000)))
	var onsets []float64
	for t := a; t < b; t += (1 + 0.03*rng.NormFloat64()) / f {
		onsets = append(onsets, t)
	}
	noise := rand.New(rand.NewPCG(s.seed+12, uint64(a*1000)))
	k := 0
	s.emg = append(s.emg, func(t float64) float64 {
		for k+1 < len(onsets) && onsets[k+1] <= t {
			k++
		}
		if k >= len(onsets) || t < onsets[k] || t-onsets[k] >= burst {
			return 0
		}
		u := (t - onsets[k]) / burst
		return amp * math.Sqrt2 * math.Sin(math.Pi*u) * noise.NormFloat64()
	})
}

// reps adds lifting repetitions (a concentric and an eccentric burst per
// period) of RMS amp (mV) from a to b.
func (s *synth) reps(a, b, period, amp float64) {
	noise := rand.New(rand.NewPCG(s.seed+13, uint64(a*1000)))
	s.emg = append(s.emg, func(t float64) float64 {
		if t < a || t >= b {
			return 0
		}
		u := math.Mod(t-a, period) / period
		env := 0.0
		switch {
		case u < 0.45:
			env = math.Sin(math.Pi * u / 0.45)
		case u < 0.9:
			env = 0.6 * math.Sin(math.Pi*(u-0.45)/0.45)
		}
		return amp * (0.08 + 0.92*env) * noise.NormFloat64()
	})
}

// sway adds the swinging of the acceleration of a limb: a sinusoid of
// peak amp (g) at f Hz on the y axis and its harmonic on x, from a to b.
func (s *synth) swing(a, b, f, amp float64) {
	s.acc = append(s.acc, func(t float64, _ *rand.Rand) [3]float64 {
		if t < a || t >= b {
			return [3]float64{}
		}
		ph := 2 * math.Pi * f * (t - a)
		return [3]float64{0.5 * amp * math.Sin(2*ph+1), amp * math.Sin(ph), 0.2 * amp * math.Sin(2*ph)}
	})
}

// jerk adds a damped oscillation of peak amp (g) at f Hz with time constant
// tau (s) along dir, starting at t0: the movement of a visible twitch.
func (s *synth) jerk(t0, amp, f, tau float64, dir [3]float64) {
	n := math.Sqrt(dir[0]*dir[0] + dir[1]*dir[1] + dir[2]*dir[2])
	s.acc = append(s.acc, func(t float64, _ *rand.Rand) [3]float64 {
		d := t - t0
		if d < 0 || d > 6*tau {
			return [3]float64{}
		}
		v := amp * math.Exp(-d/tau) * math.Sin(2*math.Pi*f*d) / n
		return [3]float64{v * dir[0], v * dir[1], v * dir[2]}
	})
}

func quantise(x, step float64) float64 {
	if step <= 0 {
		return x
	}
	return step * math.Round(x/step)
}

// channels returns the recording's channels: emg first, then acc_x..z.
func (s *synth) channels() []pipeline.Channel {
	var ch []pipeline.Channel
	if s.emgHz > 0 {
		ch = append(ch, pipeline.Channel{Name: "emg", Kind: pipeline.KindEMG, Unit: "mV", RateHz: s.emgHz})
	}
	if s.accHz > 0 {
		for _, ax := range []byte{'x', 'y', 'z'} {
			ch = append(ch, pipeline.Channel{Name: "acc_" + string(ax), Kind: pipeline.KindAcc, Unit: "g", RateHz: s.accHz, Axis: ax, Group: "acc"})
		}
	}
	return ch
}

// t0 is the synthetic recordings' first instant.
const synthT0 = int64(1_700_000_000e9)

// run feeds the recording through a detector with cfg and returns its
// events.
func (s *synth) run(t *testing.T, cfg Config) []pipeline.Event {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var evs []pipeline.Event
	if err := d.Begin(pipeline.Meta{Channels: s.channels()}, func(e pipeline.Event) { evs = append(evs, e) }); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(s.seed, 99))
	base := s.emgHz
	if base == 0 {
		base = s.accHz
	}
	accEvery := 0.0
	if s.accHz > 0 {
		accEvery = base / s.accHz
	}
	g := s.gravity
	if g == [3]float64{} {
		g = [3]float64{0, 0, 1}
	}
	n := int(s.seconds * base)
	b := pipeline.NewBatch(len(s.channels()), 1000)
	nextAcc := 0.0
	var last int64
	for i := 0; i < n; {
		b.Reset()
		for k := 0; k < 1000 && i < n; k++ {
			tt := float64(i) / base
			last = synthT0 + int64(math.Round(tt*1e9))
			v := b.Append(last)
			c := 0
			if s.emgHz > 0 {
				x := s.emgNoise * rng.NormFloat64()
				for _, f := range s.emg {
					x += f(tt)
				}
				v[c] = quantise(x, s.emgStep)
				c++
			}
			if s.accHz > 0 {
				if float64(i) >= nextAcc {
					nextAcc += accEvery
					a := g
					for _, f := range s.acc {
						d := f(tt, rng)
						a[0], a[1], a[2] = a[0]+d[0], a[1]+d[1], a[2]+d[2]
					}
					for ax := 0; ax < 3; ax++ {
						v[c+ax] = quantise(a[ax]+s.accNoise*rng.NormFloat64(), s.accStep)
					}
				} else {
					v[c], v[c+1], v[c+2] = pipeline.NoSample, pipeline.NoSample, pipeline.NoSample
				}
			}
			i++
		}
		if err := d.Process(b); err != nil {
			t.Fatal(err)
		}
		if s.probe != nil {
			s.probe(d, float64(last-synthT0)/1e9)
		}
	}
	if err := d.End(last); err != nil {
		t.Fatal(err)
	}
	return evs
}

// tally counts a run's events: twitches per sensor matched to truth times
// within tol seconds, bouts and cramps.
type tally struct {
	tp, fp, fn           map[string]int
	bouts                []*pipeline.Bout
	cramps               int
	falseAt              []float64
	restTwitches, inBout int
}

func score(evs []pipeline.Event, truths []float64, tol float64) tally {
	tl := tally{tp: map[string]int{}, fp: map[string]int{}, fn: map[string]int{}}
	used := map[string][]bool{}
	for _, e := range evs {
		switch e := e.(type) {
		case *pipeline.Twitch:
			s := float64(int64(e.Start)-synthT0) / 1e9
			if e.Phase == pipeline.PhaseActivity {
				tl.inBout++
			} else {
				tl.restTwitches++
			}
			u := used[e.Sensor]
			if u == nil {
				u = make([]bool, len(truths))
				used[e.Sensor] = u
			}
			hit := false
			for i, tr := range truths {
				if !u[i] && s >= tr-tol && s <= tr+tol {
					u[i], hit = true, true
					break
				}
			}
			if hit {
				tl.tp[e.Sensor]++
			} else {
				tl.fp[e.Sensor]++
				tl.falseAt = append(tl.falseAt, s)
			}
		case *pipeline.Bout:
			tl.bouts = append(tl.bouts, e)
		case *pipeline.Cramp:
			tl.cramps++
		}
	}
	for _, sensor := range []string{sensorEMG, sensorAcc} {
		tl.fn[sensor] = len(truths) - tl.tp[sensor]
	}
	return tl
}

// boutSpans returns the bouts as seconds from the start.
func (tl tally) boutSpans() [][2]float64 {
	var out [][2]float64
	for _, b := range tl.bouts {
		out = append(out, [2]float64{float64(int64(b.Start)-synthT0) / 1e9, float64(int64(b.End)-synthT0) / 1e9})
	}
	return out
}

func newRng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed+1)) }

// tremor adds tremor-like EMG: Gaussian activity of RMS amp (mV) modulated
// at f Hz (bursts each cycle), from a to b.
func (s *synth) tremor(a, b, f, amp float64) {
	noise := rand.New(rand.NewPCG(s.seed+14, uint64(a*1000)))
	s.emg = append(s.emg, func(t float64) float64 {
		if t < a || t >= b {
			return 0
		}
		m := math.Max(0, math.Sin(2*math.Pi*f*(t-a)))
		return amp * 2 * m * m * noise.NormFloat64()
	})
}

// pop adds an electrode pop: a step of amp (mV) decaying with tau (s).
func (s *synth) pop(t0, amp, tau float64) {
	s.emg = append(s.emg, func(t float64) float64 {
		if d := t - t0; d >= 0 && d < 8*tau {
			return amp * math.Exp(-d/tau)
		}
		return 0
	})
}

// sway adds cable sway: a slow swing of amp (mV) at f Hz from a to b.
func (s *synth) sway(a, b, f, amp float64) {
	s.emg = append(s.emg, func(t float64) float64 {
		if t < a || t >= b {
			return 0
		}
		return amp * math.Sin(math.Pi*(t-a)/(b-a)) * math.Sin(2*math.Pi*f*(t-a))
	})
}
