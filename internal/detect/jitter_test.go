package detect

import (
	"math/rand/v2"
	"testing"
)

// A train of one-point bursts whose period (19 points) jitters by up to two
// points either way: its autocorrelation peak is spread over several lags,
// and pooling them finds it again.
func TestTolerateFindsJitteredStrides(t *testing.T) {
	const n, kmax = 160, 40
	for _, tc := range []struct {
		name    string
		jitter  int
		wantRaw bool // raw peak at the period reaches 0.45
		wantTol bool // pooled peak does
	}{
		{"clockwork", 0, true, true},
		{"jittered", 2, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			p := newPeriodicity(n, kmax, 1)
			next := 5
			for i := 0; i < n; i++ {
				v := 0.0
				if i == next {
					v = 1
					next += 19 + rng.IntN(2*tc.jitter+1) - tc.jitter
				}
				p.push([]float64{v + 0.05*rng.Float64()})
			}
			p.acf()
			raw := max(p.r[18], p.r[19], p.r[20])
			p.tolerate(6)
			pooled := max(p.r[18], p.r[19], p.r[20])
			t.Logf("raw %.2f pooled %.2f", raw, pooled)
			if (raw >= 0.45) != tc.wantRaw || (pooled >= 0.45) != tc.wantTol {
				t.Errorf("raw %.2f, pooled %.2f: want raw >= 0.45 %v, pooled %v", raw, pooled, tc.wantRaw, tc.wantTol)
			}
		})
	}
}
