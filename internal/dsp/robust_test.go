package dsp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// sortMedian, sortQuantile and sortMAD are the references: sort a copy.
func sortMedian(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

func sortQuantile(x []float64, q float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	h := float64(len(s)-1) * q
	lo := int(math.Floor(h))
	if lo+1 >= len(s) {
		return s[lo]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

func sortMAD(x []float64) float64 {
	med := sortMedian(x)
	d := make([]float64, len(x))
	for i, v := range x {
		d[i] = math.Abs(v - med)
	}
	return sortMedian(d)
}

func TestRobustWindowMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	gens := []struct {
		name string
		gen  func() float64
	}{
		{"gaussian", rng.NormFloat64},
		{"heavy_tailed", func() float64 { return rng.NormFloat64() / (rng.Float64() + 0.01) }},
		{"quantised_many_ties", func() float64 { return math.Round(rng.NormFloat64() * 2) }},
		{"constant", func() float64 { return 4.25 }},
	}
	for _, g := range gens {
		for _, n := range []int{1, 2, 3, 10, 601, 600} {
			t.Run(fmt.Sprintf("%s_n%d", g.name, n), func(t *testing.T) {
				r := NewRobustWindow(n)
				var all []float64
				// 2.5 window lengths: start-up, full, and wrapped around twice
				for i := range n*5/2 + 3 {
					v := g.gen()
					r.Push(v)
					all = append(all, v)
					if i%max(1, n/7) != 0 {
						continue
					}
					held := all[max(0, len(all)-n):]
					if r.Len() != len(held) {
						t.Fatalf("n %d after %d pushes: Len %d, want %d", n, i+1, r.Len(), len(held))
					}
					if got, want := r.Median(), sortMedian(held); got != want {
						t.Fatalf("n %d after %d pushes: median %g, sort gives %g", n, i+1, got, want)
					}
					if got, want := r.MAD(), sortMAD(held); got != want {
						t.Fatalf("n %d after %d pushes: MAD %g, sort gives %g", n, i+1, got, want)
					}
					if got, want := r.Sigma(), 1.4826*sortMAD(held); got != want {
						t.Fatalf("n %d: Sigma %g, want %g", n, got, want)
					}
					for _, q := range []float64{0, 0.01, 0.1, 0.25, 0.5, 0.9, 0.99, 1} {
						got, want := r.Quantile(q), sortQuantile(held, q)
						if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
							t.Fatalf("n %d after %d pushes: quantile %g = %g, sort gives %g", n, i+1, q, got, want)
						}
					}
				}
			})
		}
	}
}

func TestRobustWindowLiterals(t *testing.T) {
	r := NewRobustWindow(5)
	if !math.IsNaN(r.Median()) || !math.IsNaN(r.MAD()) || !math.IsNaN(r.Quantile(0.5)) {
		t.Error("empty window should give NaN")
	}
	for _, v := range []float64{10, 1, 3, 2, 4} {
		r.Push(v)
	}
	// numpy.quantile([10, 1, 3, 2, 4], q) for these q: 1.0, 2.2, 3.0, 7.6, 10.0
	cases := []struct{ q, want float64 }{{0, 1}, {0.3, 2.2}, {0.5, 3}, {0.9, 7.6}, {1, 10}}
	for _, c := range cases {
		if got := r.Quantile(c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%g) = %g, want %g", c.q, got, c.want)
		}
	}
	// median 3; deviations 7, 2, 0, 1, 1 -> MAD 1
	if r.Median() != 3 || r.MAD() != 1 {
		t.Errorf("median %g MAD %g, want 3 and 1", r.Median(), r.MAD())
	}
	r.Push(100) // drops 10: window 1, 3, 2, 4, 100
	if r.Median() != 3 || r.Len() != 5 || r.Cap() != 5 {
		t.Errorf("after wrap: median %g len %d, want 3 and 5", r.Median(), r.Len())
	}
	r.Reset()
	if r.Len() != 0 {
		t.Error("Reset left values")
	}
}
