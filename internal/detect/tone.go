package detect

import (
	"github.com/twitchd/twitchd/internal/dsp"
)

// burstTone measures how much of a burst is a tone at the mains
// frequencies the canceller follows. When the interference steps or
// swells faster than the canceller follows, what it leaves for a moment
// is a short burst of tone at a harmonic whose envelope passes for a
// twitch; a potential spreads its energy over tens of hertz. Over the
// burst's samples (at least the merge gap after its last rise, so three
// cycles of the mains or more), each harmonic is fitted by least squares
// with its own amplitude and phase against the canceller's references;
// share is the burst's energy they explain. White noise leaves about
// 2h/n of n samples to h harmonics, a tone at a harmonic nearly all.
type burstTone struct {
	h                  int
	yc, ys, cc, ss, cs [dsp.MaxMainsHarmonics]float64
	yy                 float64
	n                  int
}

// reset starts a new burst.
func (b *burstTone) reset(mc *dsp.MainsCanceller) {
	*b = burstTone{h: mc.Harmonics()}
}

// add takes the sample y, the canceller's output for its last Step.
func (b *burstTone) add(y float64, mc *dsp.MainsCanceller) {
	b.yy += y * y
	b.n++
	for k := 0; k < b.h; k++ {
		c, s := mc.Ref(k)
		b.yc[k] += y * c
		b.ys[k] += y * s
		b.cc[k] += c * c
		b.ss[k] += s * s
		b.cs[k] += c * s
	}
}

// share returns the share of the burst's energy the harmonics explain,
// and what white noise alone would leave to them (2h/n).
func (b *burstTone) share() (share, noise float64) {
	if b.n == 0 || !(b.yy > 0) {
		return 0, 1
	}
	var ex float64
	for k := 0; k < b.h; k++ {
		// Least squares fit y ≈ p c + q s: explained energy
		// v' M⁻¹ v with v = (Σyc, Σys), M = [[Σcc, Σcs], [Σcs, Σss]].
		det := b.cc[k]*b.ss[k] - b.cs[k]*b.cs[k]
		if !(det > 0) {
			continue
		}
		u, v := b.yc[k], b.ys[k]
		ex += (u*u*b.ss[k] - 2*u*v*b.cs[k] + v*v*b.cc[k]) / det
	}
	return ex / b.yy, 2 * float64(b.h) / float64(b.n)
}
