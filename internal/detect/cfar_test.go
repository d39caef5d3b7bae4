package detect

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/twitchd/twitchd/internal/dsp"
)

// TestSatterthwaite checks the scaled chi-square of a window's energy: for
// white noise (an impulse response of one sample) it is exactly a
// chi-square with w degrees of freedom; correlation keeps the mean (scale
// times dof equals w) and lowers the degrees of freedom.
func TestSatterthwaite(t *testing.T) {
	tests := []struct {
		name     string
		h        []float64
		w        int
		scale    float64 // 0: only check the mean and dof < w
		dof      float64
		tolerant bool
	}{
		{"white, one sample", []float64{1}, 1, 1, 1, false},
		{"white, six samples", []float64{1}, 6, 1, 6, false},
		{"two-tap average, two samples", []float64{1, 1}, 2, 1.25, 1.6, false}, // rho(1) = 0.5: tr(R²) = 2.5
		{"correlated band-pass", nil, 12, 0, 0, true},
	}
	cfg := Default()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h
			if h == nil {
				s, err := twitchBand(&cfg, 200)
				if err != nil {
					t.Fatal(err)
				}
				h = impulse(s, 200, 2)
			}
			scale, dof := satterthwaite(h, tc.w)
			if math.Abs(scale*dof-float64(tc.w)) > 1e-9 {
				t.Errorf("mean scale*dof = %g, want %d", scale*dof, tc.w)
			}
			if tc.tolerant {
				if dof >= float64(tc.w) || dof < 1 {
					t.Errorf("dof %g, want between 1 and %d for correlated noise", dof, tc.w)
				}
				return
			}
			if math.Abs(scale-tc.scale) > 1e-9 || math.Abs(dof-tc.dof) > 1e-9 {
				t.Errorf("scale %g dof %g, want %g %g", scale, dof, tc.scale, tc.dof)
			}
		})
	}
}

// cfarRun feeds a CFAR test at fs Hz seconds of three-axis noise (sigma g
// per axis, quantised to step g) plus whatever extra adds, and returns
// the detections (clusters of samples above the threshold) and the test.
func cfarRun(t *testing.T, fs, seconds, sigma, step float64, extra func(s float64) [3]float64) ([]float64, *cfar) {
	t.Helper()
	cfg := Default()
	var bp [3]*dsp.SOS
	for k := range bp {
		var err error
		if bp[k], err = twitchBand(&cfg, fs); err != nil {
			t.Fatal(err)
		}
	}
	c := newCFAR(&cfg, fs, impulse(bp[0], fs, 2), 1, func(int64) bool { return false })
	rng := rand.New(rand.NewPCG(11, uint64(fs)))
	var dets []float64
	last := -1.0
	for i := 0; i < int(seconds*fs); i++ {
		s := float64(i) / fs
		var raw, b [3]float64
		var e [3]float64
		if extra != nil {
			e = extra(s)
		}
		for k := 0; k < 3; k++ {
			raw[k] = quantise(sigma*rng.NormFloat64()+e[k], step)
			b[k] = bp[k].Step(raw[k])
		}
		if c.observe(int64(s*1e9), raw, b, true) > 1 && s > 30 {
			if s-last > 0.5 {
				dets = append(dets, s)
			}
			last = s
		}
	}
	return dets, c
}

// TestCFARNoise checks the false-alarm side: Gaussian noise at several
// rates gives no detection in half an hour, the noise estimate is the
// band's share of the sensor's noise, and the tail leaves the Gaussian
// threshold alone; on a sensor whose noise is below its ADC step, the
// step is a floor under the noise estimate.
func TestCFARNoise(t *testing.T) {
	tests := []struct {
		name       string
		fs, sigma  float64
		step       float64
		sigmaLo    float64 // least per-axis noise estimate, g
		maxRatio   float64
		wantNoDets bool
	}{
		{"quiet sensor at 25 Hz", 25, 0.0025, 0, 0.0017, 1.1, true},
		{"quiet sensor at 100 Hz", 100, 0.0025, 0, 0.0014, 1.1, true},
		{"quiet sensor at 200 Hz", 200, 0.0025, 0, 0.0010, 1.1, true},
		{"noise below a 3.9 mg step", 50, 0.001, 0.0039, 0.0039 * 0.49, 3, true}, // half a step, within a bin
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dets, c := cfarRun(t, tc.fs, 1800, tc.sigma, tc.step, nil)
			if tc.wantNoDets && len(dets) > 0 {
				t.Errorf("%d detections in noise, first at %.1f s", len(dets), dets[0])
			}
			if n := c.noise(); n < tc.sigmaLo {
				t.Errorf("noise estimate %.5f g, want at least %.5f", n, tc.sigmaLo)
			}
			if r := c.ratio(); r > tc.maxRatio {
				t.Errorf("tail ratio %.2f, want at most %.2f", r, tc.maxRatio)
			}
		})
	}
}

// TestCFARFindsJerks checks the detection side: damped 5-25 Hz jerks in
// any direction with a sampled peak of 6 times the per-axis noise are
// found at 100 Hz, and at 50 Hz most of them; 3x ones mostly not.
func TestCFARFindsJerks(t *testing.T) {
	tests := []struct {
		name   string
		fs, k  float64
		minRec float64
		maxRec float64
	}{
		{"6x at 100 Hz", 100, 6, 0.9, 1},
		{"6x at 50 Hz", 50, 6, 0.8, 1},
		{"3x at 100 Hz", 100, 3, 0, 0.3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(21, 22))
			type jerk struct {
				t0, f, tau, amp float64
				dir             [3]float64
			}
			var js []jerk
			for s := 40.0; s < 1190; s += 8 + 6*rng.Float64() {
				f := 5 + 20*rng.Float64()
				if f > 0.45*tc.fs {
					f = 0.45 * tc.fs * (0.5 + 0.5*rng.Float64())
				}
				tau := 0.02 + 0.13*rng.Float64()
				d := [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
				n := math.Sqrt(d[0]*d[0] + d[1]*d[1] + d[2]*d[2])
				peak := 0.0
				first := math.Ceil(s*tc.fs) / tc.fs
				for i := 0; i < 40; i++ {
					x := first - s + float64(i)/tc.fs
					peak = math.Max(peak, math.Abs(math.Exp(-x/tau)*math.Sin(2*math.Pi*f*x)))
				}
				js = append(js, jerk{s, f, tau, tc.k * 0.0025 / peak, [3]float64{d[0] / n, d[1] / n, d[2] / n}})
			}
			dets, _ := cfarRun(t, tc.fs, 1200, 0.0025, 0, func(s float64) [3]float64 {
				var v [3]float64
				for _, j := range js {
					if x := s - j.t0; x >= 0 && x < 6*j.tau {
						a := j.amp * math.Exp(-x/j.tau) * math.Sin(2*math.Pi*j.f*x)
						v[0], v[1], v[2] = v[0]+a*j.dir[0], v[1]+a*j.dir[1], v[2]+a*j.dir[2]
					}
				}
				return v
			})
			found := 0
			for _, j := range js {
				for _, d := range dets {
					if d >= j.t0-0.05 && d <= j.t0+0.3 {
						found++
						break
					}
				}
			}
			rec := float64(found) / float64(len(js))
			if rec < tc.minRec || rec > tc.maxRec {
				t.Errorf("found %d of %d (%.2f), want %.2f..%.2f", found, len(js), rec, tc.minRec, tc.maxRec)
			}
			if extra := len(dets) - found; extra > 1 {
				t.Errorf("%d detections away from any jerk", extra)
			}
		})
	}
}

// TestCFARGuard checks that what surrounds a detection is not learnt as
// noise: strong jerks every few seconds leave the noise estimate and the
// tail where noise alone puts them.
func TestCFARGuard(t *testing.T) {
	_, quiet := cfarRun(t, 100, 300, 0.0025, 0, nil)
	_, busy := cfarRun(t, 100, 300, 0.0025, 0, func(s float64) [3]float64 {
		if x := math.Mod(s, 3); x < 0.3 {
			a := 0.05 * math.Exp(-x/0.05) * math.Sin(2*math.Pi*12*x)
			return [3]float64{a, 0, 0}
		}
		return [3]float64{}
	})
	if r := busy.noise() / quiet.noise(); r > 1.1 {
		t.Errorf("noise estimate %.2f times higher with jerks every 3 s", r)
	}
	if r := busy.ratio(); r > 1.2 {
		t.Errorf("tail ratio %.2f with jerks every 3 s, want near 1", r)
	}
}

// TestCFARAxesThatNeverChange checks a quiet sensor whose noise never
// moves its ADC by a step (a 10-bit accelerometer lying still): no step
// is seen, and the noise estimate must still be a number (it was NaN,
// and a guided twitch then carried an SNR of NaN that the events file
// cannot hold).
func TestCFARAxesThatNeverChange(t *testing.T) {
	dets, c := cfarRun(t, 1000, 60, 1e-5, 0.0039, nil)
	if n := c.noise(); math.IsNaN(n) || n <= 0 {
		t.Errorf("noise estimate %v, want a positive number", n)
	}
	if len(dets) > 0 {
		t.Errorf("%d detections on a still sensor", len(dets))
	}
}
