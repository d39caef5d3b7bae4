package dsp

import (
	"fmt"
	"math"
)

// notchBiquad is scipy.signal.iirnotch's design, written as scipy writes it
// so the coefficients agree to rounding: with w0 = 2π f0/fs and bandwidth
// bw = w0/q (radians, between the -3.01 dB points),
//
//	beta = tan(bw/2),  g = 1/(1+beta)
//	b = g [1, -2cos(w0), 1],  a = [1, -2g cos(w0), 2g-1].
func notchBiquad(f0, q, fs float64) Biquad {
	w0 := 2 * f0 / fs
	bw := w0 / q * math.Pi
	w0 *= math.Pi
	gb := 1 / math.Sqrt(2)
	beta := (math.Sqrt(1-gb*gb) / gb) * math.Tan(bw/2)
	g := 1 / (1 + beta)
	c := math.Cos(w0)
	return Biquad{B0: g, B1: g * (-2 * c), B2: g, A1: -2 * g * c, A2: 2*g - 1}
}

// Notch designs a second-order IIR notch at f0 Hz with quality factor q
// (f0 divided by the -3.01 dB bandwidth), for sampling rate fs Hz, as
// scipy.signal.iirnotch(f0, q, fs=fs). The gain is exactly 0 at f0 and 1 at
// DC and Nyquist; zeros lie on the unit circle at ±f0, poles at the same
// angle with radius sqrt(2g-1) < 1.
// It returns an error wrapping ErrParam if fs is not positive and finite,
// f0 is not in (0, fs/2), or q is not positive and finite.
func Notch(f0, q, fs float64) (*SOS, error) {
	const what = "notch"
	if err := checkNotch(what, f0, q, fs); err != nil {
		return nil, err
	}
	return NewSOS([]Biquad{notchBiquad(f0, q, fs)}), nil
}

func checkNotch(what string, f0, q, fs float64) error {
	if err := checkRate(what, fs); err != nil {
		return err
	}
	if err := checkFreq(what, "centre frequency", f0, fs); err != nil {
		return err
	}
	if !(q > 0) || math.IsInf(q, 0) {
		return fmt.Errorf("%w: %s: quality factor %g must be positive and finite", ErrParam, what, q)
	}
	return nil
}

// CombNotch designs a cascade of Notch sections at f0, 2f0, ..., harmonics·f0
// Hz, keeping only those below 0.95 times Nyquist (0.475 fs), for sampling
// rate fs Hz. Every section has the same quality factor q, so the notch at
// the h-th harmonic is h times as wide (h·f0/q Hz), tracking a mains
// frequency that drifts in proportion. The sections are ordered by
// frequency. It returns an error wrapping ErrParam for the same bad values
// as Notch, if harmonics < 1, or if not even f0 is below 0.95 Nyquist.
func CombNotch(f0 float64, harmonics int, q, fs float64) (*SOS, error) {
	const what = "comb notch"
	if err := checkNotch(what, f0, q, fs); err != nil {
		return nil, err
	}
	if harmonics < 1 {
		return nil, fmt.Errorf("%w: %s: harmonics %d must be at least 1", ErrParam, what, harmonics)
	}
	limit := 0.95 * fs / 2
	if !(f0 < limit) {
		return nil, fmt.Errorf("%w: %s: %g Hz is not below 0.95 Nyquist (%g Hz)", ErrParam, what, f0, limit)
	}
	var secs []Biquad
	for h := 1; h <= harmonics; h++ {
		f := float64(h) * f0
		if !(f < limit) {
			break
		}
		secs = append(secs, notchBiquad(f, q, fs))
	}
	return NewSOS(secs), nil
}
