package simulate

import "math"

// This file exports the simulator's twitch waveforms for code that
// injects them into other recordings (internal/hybrid): the same shapes
// the generator draws, nothing else.

// MaxPhases is the most phases PotentialShape draws.
const MaxPhases = 6

// hermitePeak[n] is the largest |He_n(q)·exp(−q²/2)|, n = phases − 1
// (at q = 0, 1, 0, 0.742, 0, 0.617; TestPotentialShape checks them).
var hermitePeak = [MaxPhases]float64{1, 0.606530659713, 1, 1.380119046161, 3, 5.783056955779}

// hermite is the probabilists' Hermite polynomial He_n(q).
func hermite(n int, q float64) float64 {
	a, b := 1.0, q // He_0, He_1
	if n == 0 {
		return a
	}
	for k := 1; k < n; k++ {
		a, b = b, q*b-float64(k)*a
	}
	return b
}

// PotentialShape is a motor-unit potential with phases lobes (1 to
// MaxPhases) at q standard deviations from its centre, with peak
// magnitude 1: the (phases−1)-th derivative of a Gaussian. Two and three
// phases are the generator's biphasic and triphasic potentials; one is a
// Gaussian bump and four to six the polyphasic potentials of reinnervated
// or desynchronised units. It panics on a phase count out of range.
func PotentialShape(q float64, phases int) float64 {
	switch {
	case phases < 1 || phases > MaxPhases:
		panic("simulate: PotentialShape: phases out of 1..6")
	case phases == 2 || phases == 3:
		return potentialShape(q, phases == 3)
	}
	n := phases - 1
	return hermite(n, q) * math.Exp(-0.5*q*q) / hermitePeak[n]
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
	sa := antiAliasSigma(fs)
	sigmaEff = math.Sqrt(sigma*sigma + sa*sa)
	return math.Pow(sigma/sigmaEff, float64(phases)), sigmaEff
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
