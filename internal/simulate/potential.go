package simulate

import "math"

// Fasciculation potentials are Gaussian derivatives: order k has k+1
// phases (0 a monophasic bump, 1 biphasic, 2 triphasic, up to 5 for six
// phases), scaled to a peak magnitude of 1. The presets use orders 1 and 2
// only; the families draw 1 to 6 phases.

// maxOrder is the highest derivative order: six phases.
const maxOrder = 5

// hermitePeak[k] is max |He_k(q)·exp(-q²/2)| and hermiteArg[k] the q >= 0
// where it is reached (the sample that should fall on a potential's
// largest phase).
var hermitePeak, hermiteArg = hermiteExtrema()

func hermite(k int, q float64) float64 {
	q2 := q * q
	switch k {
	case 0:
		return 1
	case 1:
		return q
	case 2:
		return q2 - 1
	case 3:
		return q * (q2 - 3)
	case 4:
		return q2*(q2-6) + 3
	default:
		return q * (q2*(q2-10) + 15)
	}
}

func hermiteExtrema() (peak, arg [maxOrder + 1]float64) {
	for k := 0; k <= maxOrder; k++ {
		for q := 0.0; q <= 6; q += 1e-4 {
			if v := math.Abs(hermite(k, q)) * math.Exp(-0.5*q*q); v > peak[k] {
				peak[k], arg[k] = v, q
			}
		}
	}
	return peak, arg
}

// halfWidth is the half length, in standard deviations, of a potential
// of the given order: where the waveform has fallen to about 1 % of its
// peak (3 for the bi- and monophasic ones, 3.5 triphasic, up to 5).
func halfWidth(order int) float64 {
	if order <= 1 {
		return 3
	}
	return 2.5 + 0.5*float64(order)
}

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
