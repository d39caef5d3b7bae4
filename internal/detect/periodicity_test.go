package detect

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPeriodicityPeak checks the autocorrelation and its peak on signals
// whose period is known, and on signals that have none.
func TestPeriodicityPeak(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	tests := []struct {
		name    string
		x       func(i int) float64
		wantLag int // 0: no rhythm
		minR    float64
	}{
		{"pulses every 14 points", func(i int) float64 {
			if i%14 < 3 {
				return 2 + 0.1*rng.NormFloat64()
			}
			return 0.1 * rng.NormFloat64()
		}, 14, 0.8},
		{"two bursts a period, unequal", func(i int) float64 {
			switch i % 20 {
			case 0, 1, 2:
				return 3
			case 10, 11:
				return 1.5
			}
			return 0.05 * rng.NormFloat64()
		}, 20, 0.8},
		{"a slow ramp has no peak", func(i int) float64 { return float64(i) / 50 }, 0, 0},
		{"white noise has none", func(int) float64 { return rng.NormFloat64() }, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeriodicity(160, 41, 1)
			for i := 0; i < 400; i++ {
				p.push([]float64{tc.x(i)})
			}
			p.acf()
			lag, r := p.peak(0.3)
			if tc.wantLag == 0 {
				if lag != 0 && r >= 0.45 {
					t.Errorf("peak at %d (r %.2f), want none", lag, r)
				}
				return
			}
			if lag != tc.wantLag || r < tc.minR {
				t.Errorf("peak at %d (r %.2f), want %d with r >= %.2f", lag, r, tc.wantLag, tc.minR)
			}
		})
	}
}

// TestPeriodicityVector checks the pooled autocorrelation of a three-axis
// signal: a swinging limb whose magnitude repeats twice per stride shows
// the stride's period in the vector.
func TestPeriodicityVector(t *testing.T) {
	p := newPeriodicity(160, 41, 3)
	for i := 0; i < 300; i++ {
		ph := 2 * math.Pi * float64(i) / 16
		p.push([]float64{0.5 * math.Sin(2*ph+1), math.Sin(ph), 0.2 * math.Sin(2*ph)})
	}
	p.acf()
	if lag, r := p.peak(0.3); lag != 16 || r < 0.9 {
		t.Errorf("peak at %d (r %.2f), want 16", lag, r)
	}
}

// TestPeriodicityIncremental checks that the lagged sums kept up to date
// as points come and go equal a recomputation from the window.
func TestPeriodicityIncremental(t *testing.T) {
	for _, dims := range []int{1, 3} {
		p := newPeriodicity(50, 20, dims)
		rng := rand.New(rand.NewPCG(1, uint64(dims)))
		x := make([]float64, dims)
		for i := 0; i < 137; i++ {
			for c := range x {
				x[c] = rng.NormFloat64()
			}
			p.push(x)
		}
		kept := append([]float64(nil), p.sums...)
		p.recompute()
		for k := range kept {
			if math.Abs(kept[k]-p.sums[k]) > 1e-9 {
				t.Fatalf("dims %d: sum %d = %g kept, %g recomputed", dims, k, kept[k], p.sums[k])
			}
		}
	}
}

// TestRhythmMarks runs the rhythm finder on a decimated envelope with
// bursts every 0.7 s from 20 to 60 s and a twitch-like spike now and then
// afterwards: the strides, and only they, are rhythmic, up to the last.
func TestRhythmMarks(t *testing.T) {
	cfg := Default()
	tl := newTimeline(240)
	r := newRhythm(&cfg, tl, 0)
	r.setFloor(1, 0)
	rng := rand.New(rand.NewPCG(2, 3))
	fs := 1000.0
	onsets := []float64{}
	for s := 20.0; s < 60; s += 0.7 * (1 + 0.03*rng.NormFloat64()) {
		onsets = append(onsets, s)
	}
	spikes := []float64{63, 66.4, 70.2, 74.8, 77.1}
	for i := 0; i < int(90*fs); i++ {
		s := float64(i) / fs
		v2 := math.Pow(rng.NormFloat64(), 2)
		for _, o := range onsets {
			if d := s - o; d >= 0 && d < 0.2 {
				v2 *= 30
			}
		}
		for _, o := range spikes {
			if d := s - o; d >= 0 && d < 0.02 {
				v2 *= 100
			}
		}
		r.add(int64(s*1e9), v2, nil)
	}
	r.flush()
	share := func(a, b float64) float64 { return tl.fractions(int64(a*1e9), int64(b*1e9)).rhythm }
	if sh := share(25, 55); sh < 0.95 {
		t.Errorf("rhythmic share during the strides %.2f, want nearly all", sh)
	}
	if sh := share(0, 18); sh > 0 {
		t.Errorf("rhythmic share before them %.2f, want 0", sh)
	}
	if sh := share(62, 90); sh > 0 {
		t.Errorf("rhythmic share among the spikes after them %.2f, want 0", sh)
	}
	if last := onsets[len(onsets)-1]; share(last+1.2, last+3) > 0 {
		t.Errorf("the rhythm reaches more than 1.2 s past the last stride at %.1f s", last)
	}
}
