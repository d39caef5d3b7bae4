package simulate

import "math"

// This file exports the simulator's twitch waveforms for code that
// injects them into other recordings (internal/hybrid): the same shapes
// the generator draws, nothing else.

// MaxPhases is the most phases PotentialShape draws.
const MaxPhases = 6

// PotentialShape is a motor-unit potential with phases lobes (1 to
// MaxPhases) at q standard deviations from its centre, with peak
// magnitude 1: the (phases−1)-th derivative of a Gaussian. Two and three
// phases are the generator's biphasic and triphasic potentials; one is a
// Gaussian bump and four to six the polyphasic potentials of reinnervated
// or desynchronised units. It panics on a phase count out of range.
func PotentialShape(q float64, phases int) float64 {
	if phases < 1 || phases > MaxPhases {
		panic("simulate: PotentialShape: phases out of 1..6")
	}
	return potentialShape(q, phases-1)
}

// PotentialHalfWidth is how many standard deviations on each side of its
// centre a potential with phases lobes visibly lasts: 3 for a biphasic
// and 3.5 for a triphasic one (as the generator draws them), half a sigma
// more per further phase. A potential of duration d has sigma
// d / (2·PotentialHalfWidth(phases)).
func PotentialHalfWidth(phases int) float64 { return 2.5 + 0.5*float64(phases-1) }

// RecordedPotential returns how a front end sampling at fs Hz records a
// potential of width sigma (s) with phases lobes: its anti-aliasing
// low-pass (a Gaussian of sigma 0.33/fs, -3 dB near 0.4·fs) widens it to
// sigmaEff and scales its peak by gain (a Gaussian derivative of order n
// convolved with a Gaussian keeps its shape, its peak scaled by
// (sigma/sigmaEff)^(n+1)).
func RecordedPotential(sigma, fs float64, phases int) (gain, sigmaEff float64) {
	return recordedGain(sigma, fs, phases-1)
}

// DampedJerk is the limb's damped oscillation after a visible twitch, x
// seconds after it starts: amp·exp(−x/tau)·sin(2π·freq·x) over the
// 4·tau the generator draws, 0 before and after.
func DampedJerk(x, amp, freq, tau float64) float64 {
	if x < 0 || x > 4*tau {
		return 0
	}
	return amp * math.Exp(-x/tau) * math.Sin(2*math.Pi*freq*x)
}
