package dsp

import (
	"math"
	"math/cmplx"
	"testing"
)

func dB(h complex128) float64 { return 20 * math.Log10(cmplx.Abs(h)) }

// must returns a function that unwraps a design result, failing t on error.
func must(t testing.TB) func(*SOS, error) *SOS {
	return func(s *SOS, err error) *SOS {
		t.Helper()
		if err != nil {
			t.Fatalf("design: %v", err)
		}
		return s
	}
}

// The -3 dB point of a Butterworth design is 10 log10(1/2).
const minus3dB = -3.010299956639812

func TestButterCutoffIsMinus3dB(t *testing.T) {
	cases := []struct {
		name  string
		make  func() (*SOS, error)
		freqs []float64
		fs    float64
	}{
		{"lowpass1_5_50", func() (*SOS, error) { return ButterLowpass(1, 5, 50) }, []float64{5}, 50},
		{"lowpass2_10_100", func() (*SOS, error) { return ButterLowpass(2, 10, 100) }, []float64{10}, 100},
		{"lowpass4_10_100", func() (*SOS, error) { return ButterLowpass(4, 10, 100) }, []float64{10}, 100},
		{"lowpass7_400_1000", func() (*SOS, error) { return ButterLowpass(7, 400, 1000) }, []float64{400}, 1000},
		{"highpass2_0.5_50", func() (*SOS, error) { return ButterHighpass(2, 0.5, 50) }, []float64{0.5}, 50},
		{"highpass5_20_1000", func() (*SOS, error) { return ButterHighpass(5, 20, 1000) }, []float64{20}, 1000},
		{"bandpass4_20_450_1000", func() (*SOS, error) { return ButterBandpass(4, 20, 450, 1000) }, []float64{20, 450}, 1000},
		{"bandpass4_20_112_250", func() (*SOS, error) { return ButterBandpass(4, 20, 112, 250) }, []float64{20, 112}, 250},
		{"bandpass2_0.5_15_100", func() (*SOS, error) { return ButterBandpass(2, 0.5, 15, 100) }, []float64{0.5, 15}, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := must(t)(c.make())
			for _, f := range c.freqs {
				if g := dB(s.Response(f, c.fs)); math.Abs(g-minus3dB) > 1e-9 {
					t.Errorf("gain at %g Hz = %.12f dB, want %.12f", f, g, minus3dB)
				}
			}
		})
	}
}

// butterMag2 is the Butterworth lowpass magnitude squared after the
// bilinear transform with pre-warping.
func butterMag2(order int, f, fc, fs float64) float64 {
	r := math.Tan(math.Pi*f/fs) / math.Tan(math.Pi*fc/fs)
	return 1 / (1 + math.Pow(r, float64(2*order)))
}

func TestButterMagnitudeFormula(t *testing.T) {
	for order := 1; order <= 10; order++ {
		for _, d := range []struct{ fc, fs float64 }{{10, 100}, {3, 1000}, {200, 500}, {0.5, 50}} {
			lp := must(t)(ButterLowpass(order, d.fc, d.fs))
			hp := must(t)(ButterHighpass(order, d.fc, d.fs))
			for i := 1; i < 500; i++ {
				f := float64(i) / 500 * d.fs / 2
				want := butterMag2(order, f, d.fc, d.fs)
				if got := math.Pow(cmplx.Abs(lp.Response(f, d.fs)), 2); math.Abs(got-want) > 1e-9*math.Max(want, 1e-6) {
					t.Fatalf("lowpass order %d fc %g fs %g: |H(%g)|^2 = %.15g, want %.15g", order, d.fc, d.fs, f, got, want)
				}
				// Highpass: the same formula with the ratio inverted.
				wantHP := butterMag2(order, d.fc, f, d.fs)
				if got := math.Pow(cmplx.Abs(hp.Response(f, d.fs)), 2); math.Abs(got-wantHP) > 1e-9*math.Max(wantHP, 1e-6) {
					t.Fatalf("highpass order %d fc %g fs %g: |H(%g)|^2 = %.15g, want %.15g", order, d.fc, d.fs, f, got, wantHP)
				}
			}
		}
	}
}

func TestButterPassbandFlat(t *testing.T) {
	cases := []struct {
		name     string
		make     func() (*SOS, error)
		fs       float64
		lo, hi   float64 // passband region checked
		maxDevDB float64
	}{
		{"lowpass4_10_100", func() (*SOS, error) { return ButterLowpass(4, 10, 100) }, 100, 0, 5, 0.02},
		{"highpass2_0.5_50", func() (*SOS, error) { return ButterHighpass(2, 0.5, 50) }, 50, 2, 25, 0.02},
		{"bandpass4_20_450_1000", func() (*SOS, error) { return ButterBandpass(4, 20, 450, 1000) }, 1000, 40, 300, 0.02},
		{"bandpass4_20_112_250", func() (*SOS, error) { return ButterBandpass(4, 20, 112, 250) }, 250, 35, 80, 0.05},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := must(t)(c.make())
			for i := 0; i <= 200; i++ {
				f := c.lo + (c.hi-c.lo)*float64(i)/200
				if g := dB(s.Response(f, c.fs)); math.Abs(g) > c.maxDevDB {
					t.Errorf("gain at %.2f Hz = %.4f dB, want within ±%g dB", f, g, c.maxDevDB)
				}
			}
		})
	}
}

func TestBandpassUnityAtWarpedCentre(t *testing.T) {
	for _, d := range []struct{ lo, hi, fs float64 }{{20, 450, 1000}, {20, 112, 250}, {0.5, 15, 100}} {
		for order := 1; order <= 6; order++ {
			s := must(t)(ButterBandpass(order, d.lo, d.hi, d.fs))
			// the digital frequency whose pre-warped value is sqrt(wlo whi)
			tc := math.Sqrt(math.Tan(math.Pi*d.lo/d.fs) * math.Tan(math.Pi*d.hi/d.fs))
			fc := math.Atan(tc) * d.fs / math.Pi
			if g := dB(s.Response(fc, d.fs)); math.Abs(g) > 1e-9 {
				t.Errorf("order %d %g-%g Hz at fs %g: gain at centre %.3f Hz = %g dB, want 0", order, d.lo, d.hi, d.fs, fc, g)
			}
		}
	}
}

func TestDesignsStable(t *testing.T) {
	var designs []*SOS
	for order := 1; order <= 12; order++ {
		designs = append(designs,
			must(t)(ButterLowpass(order, 0.5, 1000)),
			must(t)(ButterLowpass(order, 490, 1000)),
			must(t)(ButterHighpass(order, 0.1, 50)),
			must(t)(ButterBandpass(order, 20, 450, 1000)),
			must(t)(ButterBandpass(order, 1, 2, 250)),
		)
	}
	designs = append(designs, must(t)(CombNotch(50, 20, 30, 1000)), must(t)(CombNotch(60, 20, 5, 250)))
	for i, s := range designs {
		for j, q := range s.Sections() {
			if !(math.Abs(q.A2) < 1 && math.Abs(q.A1) < 1+q.A2) {
				t.Errorf("design %d section %d unstable: a1 %g a2 %g", i, j, q.A1, q.A2)
			}
		}
		if !s.Stable() {
			t.Errorf("design %d: Stable() false", i)
		}
	}
	if (Biquad{A1: -2, A2: 1}).Stable() {
		t.Error("a pole pair on the unit circle reported stable")
	}
}

// steadyStateCheck filters a sine at f through s and compares the output,
// after settle samples, with A|H| sin(ωn + arg H).
func steadyStateCheck(t *testing.T, s *SOS, f, fs float64, settle int) {
	t.Helper()
	s.Reset()
	h := s.Response(f, fs)
	w := 2 * math.Pi * f / fs
	const amp = 3.0
	worst := 0.0
	for n := 0; n < settle+2000; n++ {
		y := s.Step(amp * math.Sin(w*float64(n)))
		if n >= settle {
			want := amp * cmplx.Abs(h) * math.Sin(w*float64(n)+cmplx.Phase(h))
			worst = math.Max(worst, math.Abs(y-want))
		}
	}
	if worst > 1e-6*amp {
		t.Errorf("%g Hz: output differs from A|H|sin(ωn+argH) by up to %g (|H| = %g)", f, worst, cmplx.Abs(h))
	}
}

func TestSineSteadyStateMatchesResponse(t *testing.T) {
	bp := must(t)(ButterBandpass(4, 20, 450, 1000))
	for _, f := range []float64{5, 20, 60, 200, 450, 480} {
		steadyStateCheck(t, bp, f, 1000, 20000)
	}
	lp := must(t)(ButterLowpass(4, 10, 100))
	for _, f := range []float64{1, 10, 20, 40} {
		steadyStateCheck(t, lp, f, 100, 5000)
	}
	hp := must(t)(ButterHighpass(2, 0.5, 50))
	for _, f := range []float64{0.2, 0.5, 3} {
		steadyStateCheck(t, hp, f, 50, 20000)
	}
}

func TestCascadeAndReset(t *testing.T) {
	a := must(t)(ButterHighpass(2, 20, 1000))
	b := must(t)(Notch(50, 30, 1000))
	c := Cascade(a, b)
	if got := len(c.Sections()); got != 2 {
		t.Fatalf("cascade has %d sections, want 2", got)
	}
	for _, f := range []float64{10, 49, 50, 120} {
		want := a.Response(f, 1000) * b.Response(f, 1000)
		if got := c.Response(f, 1000); cmplx.Abs(got-want) > 1e-12 {
			t.Errorf("response at %g Hz = %v, want %v", f, got, want)
		}
	}
	x := make([]float64, 500)
	for i := range x {
		x[i] = math.Sin(float64(i)*0.37) + 0.2*math.Cos(float64(i)*1.1) + 1
	}
	seq := make([]float64, len(x))
	for i, v := range x {
		seq[i] = b.Step(a.Step(v))
	}
	got := c.Filter(nil, x)
	for i := range x {
		if got[i] != seq[i] {
			t.Fatalf("sample %d: cascade %g, a then b %g", i, got[i], seq[i])
		}
	}
	c.Reset()
	again := c.Filter(make([]float64, len(x)), x)
	for i := range x {
		if again[i] != got[i] {
			t.Fatalf("after Reset sample %d = %g, first run %g", i, again[i], got[i])
		}
	}
	if id := NewSOS(nil); id.Step(1.5) != 1.5 || cmplx.Abs(id.Response(10, 100)-1) != 0 {
		t.Error("empty SOS is not the identity")
	}
}
