package simulate

import (
	"math"

	"github.com/twitchd/twitchd/internal/dsp"
)

// Fasciculation potentials are Gaussian derivatives: order k has k+1
// phases (0 a monophasic bump, 1 biphasic, 2 triphasic, up to 5 for six
// phases), scaled to a peak magnitude of 1. The presets use orders 1 and 2
// only; the families draw 1 to 6 phases.

// maxOrder is the highest derivative order: six phases.
const maxOrder = MaxPhases - 1

// hermitePeak[k] is max |He_k(q)·exp(-q²/2)| and hermiteArg[k] the q >= 0
// where it is reached: the sample that should fall on a potential's
// largest phase. The extrema of He_k(q)·exp(-q²/2) are the roots of
// He_(k+1); TestHermiteExtrema checks these values.
var (
	hermitePeak = [maxOrder + 1]float64{1, 0.6065306597126334, 1, 1.380119046160749, 3, 5.783056955778859}
	hermiteArg  = [maxOrder + 1]float64{0, 1, 0, 0.7419637843027258, 0, 0.6167065901925941}
)

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

// halfWidth is the half length, in standard deviations, of a potential
// of the given order (PotentialHalfWidth of order+1 phases: 3 for the
// biphasic and 3.5 for the triphasic potentials of the presets).
func halfWidth(order int) float64 { return PotentialHalfWidth(order + 1) }

// potentialShape is a potential's waveform at q standard deviations from
// its centre, with peak magnitude 1.
func potentialShape(q float64, order int) float64 {
	e := math.Exp(-0.5 * q * q)
	switch order {
	case 1:
		return q * e * math.Sqrt(math.E)
	case 2:
		return (1 - q*q) * e
	}
	return hermite(order, q) * e / hermitePeak[order]
}

// recordedGain is the peak attenuation of a potential of width sigma and
// the given order once smeared by the front end: a Gaussian derivative of
// order k convolved with a Gaussian keeps its shape with
// sigma' = sqrt(sigma² + sa²) and its peak scales by (sigma/sigma')^(k+1).
func recordedGain(sigma, fs float64, order int) (gain, sigmaEff float64) {
	sa := antiAliasSigma(fs)
	se := math.Sqrt(sigma*sigma + sa*sa)
	return math.Pow(sigma/se, float64(order+1)), se
}

// sampledShapePeak is the largest |shape| on the sample instants i/fs of
// a potential centred at center with width sigma (s): 1 when a sample
// falls on the peak, less between.
func sampledShapePeak(center, sigma, fs float64, order int) float64 {
	ext := math.Max(4, halfWidth(order)+0.5)
	var peak float64
	for i := math.Ceil((center - ext*sigma) * fs); i/fs <= center+ext*sigma; i++ {
		peak = math.Max(peak, math.Abs(potentialShape((i/fs-center)/sigma, order)))
	}
	return peak
}

// alignToSample moves center so that a sample falls on the waveform's
// largest phase (the centre of a triphasic one, one sigma after the
// centre of a biphasic one).
func alignToSample(center, sigma, fs float64, order int) float64 {
	q := hermiteArg[order]
	if order == 1 {
		q = 1
	}
	if q == 0 {
		return math.Round(center*fs) / fs
	}
	return math.Round((center+q*sigma)*fs)/fs - q*sigma
}

// Surface EMG band (SENIAM; De Luca et al. 2010): what a front end keeps
// and what the families' visibility floor is judged in.
const (
	surfaceLowHz  = 20.0
	surfaceHighHz = 450.0
)

// surfaceBand returns a 2nd-order Butterworth band-pass over the surface
// EMG band, its top edge kept below 0.45 fs.
func surfaceBand(fs float64) *dsp.SOS {
	f, err := dsp.ButterBandpass(2, surfaceLowHz, math.Min(surfaceHighHz, 0.45*fs), fs)
	if err != nil {
		panic("simulate: surface EMG band-pass: " + err.Error())
	}
	return f
}

// bandPeak returns the largest magnitude, on the sample instants, of a
// unit-peak potential centred at center after the surface band-pass f:
// how much of it a surface EMG front end shows. A broad monophasic bump
// keeps little (most of its energy is below 20 Hz), a biphasic one of
// 5-15 ms most.
func bandPeak(f *dsp.SOS, center, sigma, fs float64, order int) float64 {
	f.Reset()
	ext := halfWidth(order) + 0.5
	var peak float64
	for i := math.Ceil((center - ext*sigma) * fs); i/fs <= center+ext*sigma+0.06; i++ { // 60 ms of ringing
		x := 0.0
		if q := (i/fs - center) / sigma; math.Abs(q) <= ext {
			x = potentialShape(q, order)
		}
		peak = math.Max(peak, math.Abs(f.Step(x)))
	}
	return peak
}
