package detect

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/twitchd/twitchd/internal/dsp"
)

func TestBurstToneShare(t *testing.T) {
	const fs = 250.0
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name     string
		signal   func(i int) float64
		min, max float64
	}{
		// What a step of the interference leaves: a decaying tone at 50 Hz.
		{"tone", func(i int) float64 {
			return 10*math.Exp(-float64(i)/fs/0.15)*math.Cos(2*math.Pi*50*float64(i)/fs+1) + 0.5*rng.NormFloat64()
		}, 0.8, 1},
		{"noise", func(int) float64 { return rng.NormFloat64() }, 0, 0.3},
		// A biphasic potential of 20 ms in noise.
		{"potential", func(i int) float64 {
			v := 0.3 * rng.NormFloat64()
			if i < 5 {
				v += 10 * math.Sin(2*math.Pi*float64(i)/5)
			}
			return v
		}, 0, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mc, err := dsp.NewMainsCanceller(50, 5, 2, 1, fs)
			if err != nil {
				t.Fatal(err)
			}
			for range 1000 { // let the phasor run
				mc.Step(0)
			}
			mc.Hold(true)
			var b burstTone
			b.reset(mc)
			for i := range 20 {
				mc.Step(0)
				b.add(tc.signal(i), mc)
			}
			sh, nz := b.share()
			t.Logf("share %.3f (noise alone %.3f)", sh, nz)
			if sh < tc.min || sh > tc.max {
				t.Errorf("share %.3f, want %g-%g", sh, tc.min, tc.max)
			}
		})
	}
}
