package simulate

import (
	"math"
	"testing"
)

// TestPotentialShape checks every phase count: peak magnitude 1, the
// number of lobes it is named for, and the generator's own biphasic and
// triphasic shapes for 2 and 3.
func TestPotentialShape(t *testing.T) {
	for phases := 1; phases <= MaxPhases; phases++ {
		peak, lobes, prev := 0.0, 0, 0.0
		hw := PotentialHalfWidth(phases)
		for q := -hw; q <= hw; q += 1e-4 {
			v := PotentialShape(q, phases)
			peak = math.Max(peak, math.Abs(v))
			// a lobe counts when it reaches 5% of the peak magnitude
			if math.Abs(v) > 0.05 && (prev == 0 || math.Signbit(v) != math.Signbit(prev)) {
				lobes++
				prev = v
			}
		}
		if math.Abs(peak-1) > 1e-6 {
			t.Errorf("%d phases: peak %v, want 1", phases, peak)
		}
		if lobes != phases {
			t.Errorf("%d phases: %d lobes", phases, lobes)
		}
		if edge := math.Abs(PotentialShape(hw, phases)); edge > 0.06 {
			t.Errorf("%d phases: %v of the peak left at the half-width %v", phases, edge, hw)
		}
	}
	for _, q := range []float64{-2, -0.5, 0, 0.3, 1, 2.5} {
		if PotentialShape(q, 2) != potentialShape(q, 1) || PotentialShape(q, 3) != potentialShape(q, 2) {
			t.Errorf("q=%v: 2 and 3 phases differ from the generator's shapes", q)
		}
	}
}

// TestRecordedPotential checks the front end's widening against the
// generator's recordedGain.
func TestRecordedPotential(t *testing.T) {
	for _, fs := range []float64{200, 1000, 4000} {
		g, se := RecordedPotential(1e-3, fs, 3)
		wg, wse := recordedGain(1e-3, fs, 2)
		if g != wg || se != wse {
			t.Errorf("fs %v: (%v, %v), generator (%v, %v)", fs, g, se, wg, wse)
		}
		if g1, _ := RecordedPotential(1e-3, fs, 1); !(g1 > g && g1 < 1) {
			t.Errorf("fs %v: a monophasic potential loses %v, a triphasic %v", fs, g1, g)
		}
	}
}

// TestDampedJerk checks the oscillation's support and its first peak.
func TestDampedJerk(t *testing.T) {
	const amp, f, tau = 0.02, 10.0, 0.05
	if DampedJerk(-1e-3, amp, f, tau) != 0 || DampedJerk(4*tau+1e-3, amp, f, tau) != 0 {
		t.Error("non-zero outside 0..4·tau")
	}
	x := 1 / (4 * f) // a quarter period: near the first peak
	if got, want := DampedJerk(x, amp, f, tau), amp*math.Exp(-x/tau); math.Abs(got-want) > 1e-12 {
		t.Errorf("at a quarter period %v, want %v", got, want)
	}
}
