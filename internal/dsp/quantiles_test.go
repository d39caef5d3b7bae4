package dsp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// rankValue is the reference for SlidingQuantiles: the order statistic of
// rank floor(q (m-1)).
func rankValue(x []float64, q float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func TestSlidingQuantilesMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const res = 0.02
	gens := []struct {
		name string
		gen  func(i int) float64
	}{
		{"rayleigh_like", func(int) float64 { return math.Hypot(rng.NormFloat64(), rng.NormFloat64()) }},
		{"quantised_ties", func(int) float64 { return 0.25 * math.Round(4*math.Abs(rng.NormFloat64())+1) }},
		{"scale_jumps", func(i int) float64 { return math.Abs(rng.NormFloat64()) * math.Pow(100, float64((i/150)%3)) }},
		{"with_zeros_and_nan", func(i int) float64 {
			switch i % 7 {
			case 0:
				return 0
			case 3:
				return math.NaN()
			}
			return 1 + rng.Float64()
		}},
		{"constant", func(int) float64 { return 3.5 }},
	}
	qs := []float64{0, 0.05, 0.25, 0.5, 0.9, 1}
	for _, g := range gens {
		for _, n := range []int{1, 2, 17, 400} {
			t.Run(fmt.Sprintf("%s_n%d", g.name, n), func(t *testing.T) {
				s := NewSlidingQuantiles(n, 1e-3, 1e6, res, qs...)
				var all []float64
				for i := range n*5/2 + 5 {
					v := g.gen(i)
					s.Push(v)
					all = append(all, v)
					win := all[max(0, len(all)-n):]
					if s.Len() != len(win) {
						t.Fatalf("Len %d, want %d", s.Len(), len(win))
					}
					for k, q := range qs {
						want := rankValue(clampLow(win, 1e-3), q)
						got := s.Quantile(k)
						if math.Abs(math.Log(got/want)) > math.Log1p(res)*1.0001 {
							t.Fatalf("push %d: quantile %g = %g, want %g within %g%%", i, q, got, want, 100*res)
						}
					}
				}
			})
		}
	}
}

// clampLow maps values the tracker puts in its first bin (at or below lo,
// NaN) to lo.
func clampLow(x []float64, lo float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		if !(v > lo) {
			v = lo
		}
		out[i] = v
	}
	return out
}

func TestSlidingQuantilesLiterals(t *testing.T) {
	s := NewSlidingQuantiles(4, 0.1, 1000, 0.01, 0.5)
	if !math.IsNaN(s.Quantile(0)) {
		t.Errorf("empty window: %g, want NaN", s.Quantile(0))
	}
	for _, v := range []float64{1, 100, 10, 1000, 2} { // the 1 falls out
		s.Push(v)
	}
	// window {100, 10, 1000, 2}: rank floor(0.5*3) = 1 -> 10
	if got := s.Quantile(0); math.Abs(got-10) > 0.1 {
		t.Errorf("median of {100 10 1000 2} = %g, want 10", got)
	}
	s.Reset()
	if s.Len() != 0 || s.Cap() != 4 {
		t.Errorf("after Reset Len %d Cap %d, want 0 and 4", s.Len(), s.Cap())
	}
	s.Push(5)
	if got := s.Quantile(0); math.Abs(got-5) > 0.05 {
		t.Errorf("after Reset and one push: %g, want 5", got)
	}
}

func TestSlidingQuantilesPanics(t *testing.T) {
	cases := []struct {
		name string
		f    func()
	}{
		{"empty window", func() { NewSlidingQuantiles(0, 1, 2, 0.1) }},
		{"lo not positive", func() { NewSlidingQuantiles(4, 0, 2, 0.1) }},
		{"hi below lo", func() { NewSlidingQuantiles(4, 2, 1, 0.1) }},
		{"too many bins", func() { NewSlidingQuantiles(4, 1e-300, 1e300, 1e-4) }},
		{"quantile above 1", func() { NewSlidingQuantiles(4, 1, 2, 0.1, 1.5) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Fatal("no panic")
				}
			}()
			c.f()
		})
	}
}

// TestFastLog2 checks the binning logarithm against math.Log2 over
// mantissas and exponents.
func TestFastLog2(t *testing.T) {
	worst := 0.0
	for _, e := range []float64{1e-9, 1e-3, 1, 7, 1e6} {
		for m := 1.0; m < 2; m += 1e-4 {
			x := e * m
			worst = math.Max(worst, math.Abs(fastLog2(x)-math.Log2(x)))
		}
	}
	if worst > 3e-4 {
		t.Errorf("largest error %g, want below 3e-4", worst)
	}
}
