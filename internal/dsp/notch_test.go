package dsp

import (
	"math"
	"testing"
)

func TestNotchAttenuation(t *testing.T) {
	cases := []struct {
		name      string
		f0        float64
		harmonics int
		q, fs     float64
		wantSecs  int
		passband  []float64 // frequencies away from the notches: within 0.5 dB
	}{
		{"single_50_1000", 50, 1, 30, 1000, 1, []float64{1, 20, 40, 60, 100, 250, 499}},
		{"comb_50x5_1000", 50, 5, 30, 1000, 5, []float64{5, 25, 75, 125, 175, 225, 275, 325, 400, 475}},
		// With nine notches of constant Q the gaps between the wide upper
		// notches sag (-0.76 dB at 425 Hz), so the 0.5 dB band is checked
		// below 300 Hz.
		{"comb_50x20_1000_cut_at_0.95_nyquist", 50, 20, 30, 1000, 9, []float64{25, 75, 125, 175, 225, 275}},
		{"comb_60x10_1000", 60, 10, 30, 1000, 7, []float64{30, 90, 150, 210, 270}},
		{"comb_60x10_250", 60, 10, 30, 250, 1, []float64{10, 30, 90, 124}},
		{"comb_50x4_500", 50, 4, 35, 500, 4, []float64{25, 75, 125, 175, 225, 249}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := must(t)(CombNotch(c.f0, c.harmonics, c.q, c.fs))
			if got := len(s.Sections()); got != c.wantSecs {
				t.Fatalf("%d sections, want %d", got, c.wantSecs)
			}
			for h := 1; h <= c.wantSecs; h++ {
				f := float64(h) * c.f0
				if g := dB(s.Response(f, c.fs)); g > -30 {
					t.Errorf("harmonic %d (%g Hz): %.1f dB, want deeper than -30 dB", h, f, g)
				}
				// A notch of Q q is -3 dB wide f/q: ±f/(4q) off centre it still removes > 5 dB.
				if g := dB(s.Response(f+f/(4*c.q), c.fs)); g > -5 {
					t.Errorf("%g Hz (just off harmonic %d): %.2f dB, want below -5 dB", f+f/(4*c.q), h, g)
				}
			}
			for _, f := range c.passband {
				if g := dB(s.Response(f, c.fs)); math.Abs(g) > 0.5 {
					t.Errorf("%g Hz: %.3f dB, want within 0.5 dB", f, g)
				}
			}
		})
	}
}

func TestNotchBandwidth(t *testing.T) {
	// iirnotch's q is f0 over the -3.01 dB bandwidth (of ω, after the
	// bilinear warp): find both -3 dB points by bisection.
	const f0, q, fs = 50.0, 30.0, 1000.0
	s := must(t)(Notch(f0, q, fs))
	edge := func(lo, hi float64) float64 { // gain decreasing from lo to hi or increasing; find -3.0103 dB
		glo := dB(s.Response(lo, fs)) - minus3dB
		for range 100 {
			mid := (lo + hi) / 2
			g := dB(s.Response(mid, fs)) - minus3dB
			if (g > 0) == (glo > 0) {
				lo, glo = mid, g
			} else {
				hi = mid
			}
		}
		return lo
	}
	lower := edge(40, 50)
	upper := edge(50, 60)
	// bandwidth in ω is π·(2f0/fs)/q; convert edges to ω.
	bw := 2 * math.Pi * (upper - lower) / fs
	want := math.Pi * (2 * f0 / fs) / q
	if math.Abs(bw-want) > 1e-6*want {
		t.Errorf("-3 dB bandwidth %.9f rad, want %.9f (edges %.4f, %.4f Hz)", bw, want, lower, upper)
	}
	if g := dB(s.Response(0, fs)); math.Abs(g) > 1e-12 {
		t.Errorf("DC gain %g dB, want 0", g)
	}
}

func TestNotchSineDecays(t *testing.T) {
	for _, fs := range []float64{250, 500, 1000} {
		s := must(t)(CombNotch(50, 5, 30, fs))
		w := 2 * math.Pi * 50 / fs
		n := int(3 * fs)
		var inSum, outSum float64
		for i := range n {
			x := math.Sin(w * float64(i))
			y := s.Step(x)
			if i >= n-int(fs/2) { // last half second
				inSum += x * x
				outSum += y * y
			}
		}
		if ratio := math.Sqrt(outSum / inSum); ratio > 1e-3 {
			t.Errorf("fs %g: 50 Hz sine after 2.5 s keeps %.2g of its RMS, want < 1e-3", fs, ratio)
		}
	}
}
