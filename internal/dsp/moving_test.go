package dsp

import (
	"math"
	"math/rand/v2"
	"testing"
)

func naiveWindow(x []float64, k, n int) []float64 {
	start := max(0, k-n+1)
	return x[start : k+1]
}

func TestMovingMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 100_000)
	for i := range x {
		// an offset and a slow drift make cancellation errors visible
		x[i] = 50 + 0.001*float64(i) + 3*rng.NormFloat64()
	}
	for _, n := range []int{1, 2, 7, 100, 1000} {
		rms := NewMovingRMS(n)
		avg := NewMovingAverage(n)
		for k, v := range x {
			gotR := rms.Step(v)
			gotA := avg.Step(v)
			if k%97 != 0 && k > 2*n { // check the start-up and a sample of the rest
				continue
			}
			var s, s2 float64
			w := naiveWindow(x, k, n)
			for _, u := range w {
				s += u
				s2 += u * u
			}
			wantA := s / float64(len(w))
			wantR := math.Sqrt(s2 / float64(len(w)))
			if math.Abs(gotA-wantA) > 1e-12*math.Abs(wantA) {
				t.Fatalf("n %d step %d: average %.17g, naive %.17g", n, k, gotA, wantA)
			}
			if math.Abs(gotR-wantR) > 1e-12*wantR {
				t.Fatalf("n %d step %d: RMS %.17g, naive %.17g", n, k, gotR, wantR)
			}
			if gotR != rms.Value() || gotA != avg.Value() {
				t.Fatalf("n %d step %d: Value differs from Step", n, k)
			}
		}
	}
}

func TestMovingStartupAveragesWhatItHas(t *testing.T) {
	rms := NewMovingRMS(4)
	avg := NewMovingAverage(4)
	if rms.Value() != 0 || avg.Value() != 0 {
		t.Fatal("Value before any sample is not 0")
	}
	cases := []struct{ x, rms, avg float64 }{
		{3, 3, 3},
		{-4, math.Sqrt(25.0 / 2), -0.5},
		{0, math.Sqrt(25.0 / 3), -1.0 / 3},
		{12, math.Sqrt(169.0 / 4), 11.0 / 4},
		{1, math.Sqrt(161.0 / 4), 9.0 / 4}, // 3 drops out
	}
	for i, c := range cases {
		if got := rms.Step(c.x); math.Abs(got-c.rms) > 1e-15*c.rms {
			t.Errorf("step %d: RMS %g, want %g", i, got, c.rms)
		}
		if got := avg.Step(c.x); math.Abs(got-c.avg) > 1e-15 {
			t.Errorf("step %d: average %g, want %g", i, got, c.avg)
		}
	}
	rms.Reset()
	avg.Reset()
	if rms.Step(2) != 2 || avg.Step(2) != 2 {
		t.Error("after Reset the window still holds old samples")
	}
}

func TestMovingNoDrift(t *testing.T) {
	const steps = 10_000_000
	// After 10 M steps of a large random input, a constant input must give
	// back exactly the constant once the window holds only it.
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []float64{0.75, -3, 1024.5} {
		rms := NewMovingRMS(600)
		avg := NewMovingAverage(600)
		for range steps {
			v := 1e4 * rng.Float64()
			rms.Step(v)
			avg.Step(v)
		}
		var r, a float64
		for range 5000 {
			r = rms.Step(c)
			a = avg.Step(c)
		}
		if r != math.Abs(c) || a != c {
			t.Errorf("constant %g after %d random steps: RMS %.17g, average %.17g; want exactly %g, %g",
				c, steps, r, a, math.Abs(c), c)
		}
	}
	// A constant whose square is not exact stays within one rounding and
	// never moves once the window is full.
	rms := NewMovingRMS(600)
	first := 0.0
	for i := range steps {
		r := rms.Step(0.1)
		if i == 600 {
			first = r
		}
		if i > 600 && r != first {
			t.Fatalf("constant 0.1: RMS moved from %.17g to %.17g at step %d", first, r, i)
		}
	}
	if math.Abs(first-0.1) > 2e-16 {
		t.Errorf("constant 0.1: RMS %.17g", first)
	}
}

func TestTKEOSine(t *testing.T) {
	cases := []struct{ amp, omega, phase float64 }{
		{1, 0.1, 0}, {3.5, 1.3, 0.4}, {0.01, 2 * math.Pi * 50 / 1000, 1}, {200, 3.0, -2},
	}
	for _, c := range cases {
		var k TKEO
		want := c.amp * c.amp * math.Pow(math.Sin(c.omega), 2)
		for n := range 5000 {
			psi := k.Step(c.amp * math.Sin(c.omega*float64(n)+c.phase))
			if n < 2 {
				continue // psi[-1] uses x[-1] = x[-2] = 0
			}
			if math.Abs(psi-want) > 1e-9*c.amp*c.amp {
				t.Fatalf("A %g Ω %g: psi[%d] = %.15g, want A² sin²Ω = %.15g", c.amp, c.omega, n-1, psi, want)
			}
		}
	}
}

func TestTKEOStartup(t *testing.T) {
	var k TKEO
	got := []float64{k.Step(2), k.Step(3), k.Step(5), k.Step(7)}
	want := []float64{0, 4, 9 - 2*5, 25 - 3*7} // psi[-1]=0, psi[0]=x0²-0·x1, ...
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d: %g, want %g", i, got[i], want[i])
		}
	}
	k.Reset()
	if k.Step(9) != 0 || k.Step(1) != 81 {
		t.Error("Reset did not clear the history")
	}
}

func TestOnePole(t *testing.T) {
	const tau, fs = 0.25, 200.0
	o := NewOnePole(tau, fs)
	o.Set(0)
	var y float64
	for range int(tau * fs) {
		y = o.Step(1)
	}
	// (1-alpha)^(tau fs) = e^-1 exactly, so after tau seconds y = 1 - 1/e.
	if want := 1 - math.Exp(-1); math.Abs(y-want) > 1e-12 {
		t.Errorf("after tau: %.15g, want 1-1/e = %.15g", y, want)
	}
	if o.Value() != y {
		t.Errorf("Value %g, last Step %g", o.Value(), y)
	}
	fresh := NewOnePole(tau, fs)
	if got := fresh.Step(7); got != 7 {
		t.Errorf("first Step without Set = %g, want the sample 7", got)
	}
	if got := NewOnePole(0, fs); got.Step(1) != 1 || got.Step(5) != 5 {
		t.Error("tau 0 should pass samples through")
	}
}
