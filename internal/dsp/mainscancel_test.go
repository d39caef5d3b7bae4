package dsp

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// driftingMains returns n samples at fs of mains at f0 whose frequency
// wanders by ±drift Hz over period seconds and whose amplitude (amp on
// the fundamental, harmonics 2..5 at 3, 12, 2 and 15 % of it) wanders by
// ±40 % over 40 s, plus white noise of RMS noise.
func driftingMains(n int, fs, f0, drift, period, amp, noise float64, seed uint64) (mains, total []float64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	rel := []float64{1, 0.03, 0.12, 0.02, 0.15}
	mains, total = make([]float64, n), make([]float64, n)
	phase := 0.0
	for i := range n {
		t := float64(i) / fs
		f := f0 + drift*math.Sin(2*math.Pi*t/period)
		phase += 2 * math.Pi * f / fs
		g := amp * (1 + 0.4*math.Sin(2*math.Pi*t/40))
		for k, r := range rel {
			if float64(k+1)*f0 < 0.45*fs {
				mains[i] += g * r * math.Cos(float64(k+1)*phase+float64(k))
			}
		}
		total[i] = mains[i] + noise*rng.NormFloat64()
	}
	return mains, total
}

func rmsOf(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

func TestMainsCancellerFollowsDrift(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		fs, f0, drift, amp, bw  float64
		wantResidual, wantNotch float64 // residual mains RMS, over the noise RMS, at most / at least
	}{
		{"50 Hz at 1 kHz drifting 0.2 Hz", 1000, 50, 0.2, 200, 2, 0.6, 1},
		{"60 Hz at 250 Hz drifting 0.15 Hz", 250, 60, 0.15, 150, 2, 0.6, 1},
		{"50 Hz at 4 kHz drifting 0.05 Hz", 4000, 50, 0.05, 300, 2, 0.6, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const noise = 3.0
			n := int(120 * tc.fs)
			_, x := driftingMains(n, tc.fs, tc.f0, tc.drift, 90, tc.amp, noise, 1)
			_, clean := driftingMains(n, tc.fs, tc.f0, tc.drift, 90, 0, noise, 1)
			c, err := NewMainsCanceller(tc.f0, 5, tc.bw, 1, tc.fs)
			if err != nil {
				t.Fatal(err)
			}
			notch, err := CombNotch(tc.f0, 5, 30, tc.fs)
			if err != nil {
				t.Fatal(err)
			}
			res := make([]float64, 0, n)
			resNotch := make([]float64, 0, n)
			maxFreqErr := 0.0
			for i, v := range x {
				y := c.Step(v)
				z := notch.Step(v)
				if i >= n/4 { // after 30 s
					res = append(res, y-clean[i])
					resNotch = append(resNotch, z-clean[i])
					tt := float64(i) / tc.fs
					want := tc.f0 + tc.drift*math.Sin(2*math.Pi*tt/90)
					maxFreqErr = max(maxFreqErr, math.Abs(c.Freq()-want))
				}
			}
			r, rn := rmsOf(res)/noise, rmsOf(resNotch)/noise
			t.Logf("residual over noise: canceller %.3f, comb notch %.3f; largest frequency error %.3f Hz", r, rn, maxFreqErr)
			if r > tc.wantResidual {
				t.Errorf("canceller leaves %.3f of the noise RMS in mains, want <= %g", r, tc.wantResidual)
			}
			if rn < tc.wantNotch {
				t.Errorf("comb notch leaves only %.3f: the case does not show drift hurting a fixed notch", rn)
			}
			if maxFreqErr > 0.05 {
				t.Errorf("frequency off by up to %.3f Hz, want <= 0.05", maxFreqErr)
			}
		})
	}
}

func TestMainsCancellerLeavesOtherSignals(t *testing.T) {
	const fs = 1000
	c, err := NewMainsCanceller(50, 5, 2, 1, fs)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	n := 60 * fs
	in, out := make([]float64, n), make([]float64, n)
	for i := range in {
		in[i] = 10 * rng.NormFloat64()
		// A 20 ms biphasic potential of 200 µV every 2 s.
		if k := i % (2 * fs); k < 20 {
			in[i] += 200 * math.Sin(2*math.Pi*float64(k)/20)
		}
		out[i] = c.Step(in[i])
	}
	if f := c.Freq(); math.Abs(f-50) > 1 {
		t.Errorf("frequency %g wandered out of its range", f)
	}
	// Its notches take their share of the noise (a few hertz of some
	// hundreds), no more.
	if r := rmsOf(out) / rmsOf(in); r < 0.97 || r > 1.01 {
		t.Errorf("without mains the output's RMS is %.3f of the input's, want 0.97-1.01", r)
	}
	// The potentials keep their peaks.
	for k := 10; k < 29; k++ {
		p, q := 0.0, 0.0
		for i := k * 2 * fs; i < k*2*fs+20; i++ {
			p, q = max(p, math.Abs(in[i])), max(q, math.Abs(out[i]))
		}
		if q < 0.9*p {
			t.Errorf("potential %d: peak %.1f became %.1f", k, p, q)
		}
	}
}

func TestMainsCancellerParams(t *testing.T) {
	for _, tc := range []struct {
		name           string
		f0             float64
		h              int
		bw, maxOff, fs float64
	}{
		{"rate", 50, 5, 1, 1, 0},
		{"above 0.45 fs", 50, 5, 1, 1, 100},
		{"no harmonics", 50, 0, 1, 1, 1000},
		{"too many harmonics", 50, MaxMainsHarmonics + 1, 1, 1, 1000},
		{"bandwidth", 50, 5, 0, 1, 1000},
		{"drift", 50, 5, 1, math.Inf(1), 1000},
	} {
		if _, err := NewMainsCanceller(tc.f0, tc.h, tc.bw, tc.maxOff, tc.fs); !errors.Is(err, ErrParam) {
			t.Errorf("%s: got %v, want ErrParam", tc.name, err)
		}
	}
}

func BenchmarkMainsCancellerStep(b *testing.B) {
	c, err := NewMainsCanceller(50, 5, 1, 1, 1000)
	if err != nil {
		b.Fatal(err)
	}
	benchStep(b, c.Step)
}
