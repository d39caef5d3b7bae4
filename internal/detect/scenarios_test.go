package detect

import (
	"fmt"
	"math"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

// twitchTimes returns n times from a to b, irregularly spaced.
func twitchTimes(a, b float64, n int) []float64 {
	rng := newRng(uint64(a))
	var out []float64
	step := (b - a) / float64(n)
	for i := 0; i < n; i++ {
		out = append(out, a+step*(float64(i)+0.2+0.6*rng.Float64()))
	}
	return out
}

// addTwitches adds, at each time, a potential to the EMG and a damped jerk
// (peak jerk g, at 100 Hz or faster) to the accelerometer.
func (s *synth) addTwitches(ts []float64, jerk float64) {
	for _, x := range ts {
		if s.emgHz > 0 {
			s.potential(x, 0.1, 0.01)
		}
		if s.accHz > 0 {
			s.jerk(x+0.01, jerk, 11, 0.05, [3]float64{0.3, 1, 0.4})
		}
	}
}

// TestWalkingIsActivity: a slow, low-amplitude walk (strides at 0.8-1.6
// Hz, short EMG bursts a few times the noise) seen by EMG, accelerometer
// or both is one light bout with no twitches in it, and the twitches in
// the rest after it are found.
func TestWalkingIsActivity(t *testing.T) {
	for _, mode := range []string{"emg", "acc", "both"} {
		for _, f := range []float64{0.8, 1.6} {
			t.Run(fmt.Sprintf("%s %.1f Hz", mode, f), func(t *testing.T) {
				s := &synth{seconds: 330, seed: 7, emgNoise: 0.004, accNoise: 0.0025}
				if mode != "acc" {
					s.emgHz = 1000
					s.strides(20, 200, f, 0.15, 0.012)
				}
				if mode != "emg" {
					s.accHz = 100
					s.swing(20, 200, f, 0.06)
				}
				tw := twitchTimes(215, 325, 12)
				s.addTwitches(tw, 0.03)
				tl := score(s.run(t, Default()), tw, 0.15)
				if len(tl.bouts) != 1 || tl.bouts[0].Intensity != pipeline.IntensityLight {
					t.Fatalf("bouts %v, want one light bout over the walk", tl.boutSpans())
				}
				if b := tl.boutSpans()[0]; b[0] > 30 || b[1] < 190 || b[1] > 210 {
					t.Errorf("bout %v, want about 20..200 s", b)
				}
				for _, sensor := range []string{sensorEMG, sensorAcc} {
					if fp := tl.fp[sensor]; fp > 0 {
						t.Errorf("%d false %s twitches, at %v", fp, sensor, tl.falseAt)
					}
				}
				if want := len(tw) - 1; tl.tp[sensorEMG] < want && tl.tp[sensorAcc] < want {
					t.Errorf("found %v of %d twitches at rest", tl.tp, len(tw))
				}
			})
		}
	}
}

// TestLiftingSetsOneBout: four sets of repetitions with 90 s rests between
// them, seen by EMG alone, are one bout with no cramp in it; the twitches
// in the rest after the last set are found.
func TestLiftingSetsOneBout(t *testing.T) {
	for _, period := range []float64{2.5, 4.5} {
		t.Run(fmt.Sprintf("repetitions of %.1f s", period), func(t *testing.T) {
			s := &synth{emgHz: 1000, seconds: 600, seed: 2, emgNoise: 0.004}
			at := 20.0
			for set := 0; set < 4; set++ {
				s.reps(at, at+8*period, period, 0.1)
				at += 8*period + 90
			}
			tw := twitchTimes(at+10, 595, 10)
			s.addTwitches(tw, 0)
			tl := score(s.run(t, Default()), tw, 0.05)
			if len(tl.bouts) != 1 {
				t.Errorf("bouts %v, want one over the sets", tl.boutSpans())
			}
			if tl.cramps != 0 {
				t.Errorf("%d cramps in a lifting session", tl.cramps)
			}
			if tl.tp[sensorEMG] < len(tw)-1 || tl.fp[sensorEMG] > 1 {
				t.Errorf("twitches found %d of %d, %d false", tl.tp[sensorEMG], len(tw), tl.fp[sensorEMG])
			}
		})
	}
}

// TestBaselines: recordings that hold no twitch give none, and no cramp:
// a baseline a couple of ADC steps deep, tremor-like bursts, electrode
// pops and cable sway. Twitches added to the quantised baseline are found.
func TestBaselines(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(s *synth)
		twitch bool
	}{
		{"12-bit baseline, noise of one step", func(s *synth) { s.emgNoise, s.emgStep = 0.0008, 0.0008 }, false},
		{"12-bit baseline with twitches", func(s *synth) { s.emgNoise, s.emgStep = 0.0008, 0.0008 }, true},
		{"tremor bursts at 5-7 Hz", func(s *synth) {
			for i, a := range []float64{30, 70, 100, 140} {
				s.tremor(a, a+2+float64(i), 5+0.6*float64(i), 0.03)
			}
		}, false},
		{"electrode pops", func(s *synth) {
			for i, a := range []float64{25, 60, 95, 130, 160} {
				s.pop(a, 0.3+0.3*float64(i), 0.05+0.05*float64(i))
			}
		}, false},
		{"cable sway", func(s *synth) {
			s.sway(30, 40, 1.2, 0.5)
			s.sway(90, 96, 2.5, 0.3)
			s.sway(140, 148, 4, 0.2)
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &synth{emgHz: 1000, seconds: 180, seed: 3, emgNoise: 0.004}
			tc.setup(s)
			var tw []float64
			if tc.twitch {
				tw = twitchTimes(20, 175, 15)
				for _, x := range tw {
					s.potential(x, 0.03, 0.01)
				}
			}
			tl := score(s.run(t, Default()), tw, 0.05)
			if tl.fp[sensorEMG] > 0 || tl.cramps > 0 {
				t.Errorf("%d false twitches (at %v), %d cramps", tl.fp[sensorEMG], tl.falseAt, tl.cramps)
			}
			if tc.twitch && tl.tp[sensorEMG] < len(tw)-1 {
				t.Errorf("found %d of %d twitches", tl.tp[sensorEMG], len(tw))
			}
		})
	}
}

// TestAccelerometerAlone: with no EMG, damped jerks of 6 times the
// per-axis noise are found, and nothing else is.
func TestAccelerometerAlone(t *testing.T) {
	s := &synth{accHz: 100, seconds: 600, seed: 5, accNoise: 0.0025}
	tw := twitchTimes(40, 590, 45)
	rng := newRng(6)
	for _, x := range tw {
		f := 6 + 14*rng.Float64()
		tau := 0.03 + 0.1*rng.Float64()
		// The sampled peak is 6 x 2.5 mg.
		first := math.Ceil(x*100) / 100
		peak := 0.0
		for i := 0; i < 40; i++ {
			d := first - x + float64(i)/100
			peak = math.Max(peak, math.Abs(math.Exp(-d/tau)*math.Sin(2*math.Pi*f*d)))
		}
		s.jerk(x, 0.015/peak, f, tau, [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()})
	}
	tl := score(s.run(t, Default()), tw, 0.15)
	if rec := float64(tl.tp[sensorAcc]) / float64(len(tw)); rec < 0.9 || tl.fp[sensorAcc] > 0 {
		t.Errorf("found %d of %d (%.2f), %d false at %v", tl.tp[sensorAcc], len(tw), rec, tl.fp[sensorAcc], tl.falseAt)
	}
}

// TestLowRateEMG: at 200 and 250 Hz the 15 ms envelope is three or four
// samples and far spikier than at 1 kHz; potentials well above the noise
// are still found, and noise alone gives at most one in four minutes. (The
// least threshold, a tenth above Gaussian noise's 0.999 quantile, is low
// enough for the bundled 250 Hz fixtures' weakest twitch, about four
// times the floor; Gaussian noise passes it about eight times an hour at
// these rates, never at 500 Hz and above.)
func TestLowRateEMG(t *testing.T) {
	for _, hz := range []float64{200, 250} {
		t.Run(fmt.Sprintf("%.0f Hz", hz), func(t *testing.T) {
			s := &synth{emgHz: hz, seconds: 240, seed: 12, emgNoise: 0.005}
			tw := twitchTimes(20, 235, 25)
			for _, x := range tw {
				s.potential(x, 0.1, 0.012)
			}
			tl := score(s.run(t, Default()), tw, 0.05)
			if tl.tp[sensorEMG] < len(tw)-1 || tl.fp[sensorEMG] > 1 {
				t.Errorf("found %d of %d, %d false at %v", tl.tp[sensorEMG], len(tw), tl.fp[sensorEMG], tl.falseAt)
			}
		})
	}
}
