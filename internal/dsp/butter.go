package dsp

import (
	"fmt"
	"math"
	"math/cmplx"
	"sort"
)

// MaxButterOrder is the highest prototype order the Butterworth designs
// accept; beyond it the design is numerically meaningless for our uses.
const MaxButterOrder = 32

// zpk is a filter as zeros, poles and a gain, in the s or z plane.
type zpk struct {
	z, p []complex128
	k    float64
}

// buttap returns the analog Butterworth lowpass prototype of order n with a
// cutoff of 1 rad/s: poles -exp(jπm/(2n)) for m = -n+1, -n+3, ..., n-1, no
// zeros, gain 1 (scipy.signal.buttap). The middle pole of an odd order is
// exactly -1.
func buttap(n int) zpk {
	p := make([]complex128, n)
	for i := range p {
		m := float64(-n + 1 + 2*i)
		if m == 0 {
			p[i] = -1
			continue
		}
		p[i] = -cmplx.Exp(complex(0, math.Pi*m/float64(2*n)))
	}
	return zpk{p: p, k: 1}
}

// degree is len(p) - len(z), the number of zeros at infinity.
func (f zpk) degree() int { return len(f.p) - len(f.z) }

// lp2lp scales the cutoff from 1 to wo rad/s (scipy.signal.lp2lp_zpk).
func (f zpk) lp2lp(wo float64) zpk {
	out := zpk{z: make([]complex128, len(f.z)), p: make([]complex128, len(f.p))}
	for i, z := range f.z {
		out.z[i] = complex(wo, 0) * z
	}
	for i, p := range f.p {
		out.p[i] = complex(wo, 0) * p
	}
	out.k = f.k * math.Pow(wo, float64(f.degree()))
	return out
}

// lp2hp turns a lowpass prototype into a highpass with cutoff wo
// (scipy.signal.lp2hp_zpk): s -> wo/s, the zeros at infinity move to 0.
func (f zpk) lp2hp(wo float64) zpk {
	out := zpk{}
	num, den := complex(1, 0), complex(1, 0)
	for _, z := range f.z {
		out.z = append(out.z, complex(wo, 0)/z)
		num *= -z
	}
	for _, p := range f.p {
		out.p = append(out.p, complex(wo, 0)/p)
		den *= -p
	}
	for range f.degree() {
		out.z = append(out.z, 0)
	}
	out.k = f.k * real(num/den)
	return out
}

// lp2bp turns a lowpass prototype into a bandpass with centre wo and
// bandwidth bw (scipy.signal.lp2bp_zpk): each root r becomes
// r bw/2 ± sqrt((r bw/2)^2 - wo^2), and degree zeros are added at 0.
func (f zpk) lp2bp(wo, bw float64) zpk {
	split := func(rs []complex128) []complex128 {
		out := make([]complex128, 2*len(rs))
		for i, r := range rs {
			l := r * complex(bw/2, 0)
			d := cmplx.Sqrt(l*l - complex(wo*wo, 0))
			out[i] = l + d
			out[len(rs)+i] = l - d
		}
		return out
	}
	out := zpk{z: split(f.z), p: split(f.p)}
	for range f.degree() {
		out.z = append(out.z, 0)
	}
	out.k = f.k * math.Pow(bw, float64(f.degree()))
	return out
}

// bilinear maps an analog zpk to the z plane with z = (2fs + s)/(2fs - s)
// (scipy.signal.bilinear_zpk); zeros at infinity land at z = -1.
func (f zpk) bilinear(fs float64) zpk {
	fs2 := complex(2*fs, 0)
	out := zpk{}
	num, den := complex(1, 0), complex(1, 0)
	for _, z := range f.z {
		out.z = append(out.z, (fs2+z)/(fs2-z))
		num *= fs2 - z
	}
	for _, p := range f.p {
		out.p = append(out.p, (fs2+p)/(fs2-p))
		den *= fs2 - p
	}
	for range f.degree() {
		out.z = append(out.z, -1)
	}
	out.k = f.k * real(num/den)
	return out
}

// cplxreal splits roots into one member (positive imaginary part) of each
// complex-conjugate pair, averaged with its partner's conjugate, followed by
// the real roots, ordered as scipy's _cplxreal orders them. Real roots are
// returned with an imaginary part of exactly 0.
func cplxreal(rs []complex128) []complex128 {
	const tol = 100 * 2.220446049250313e-16
	z := append([]complex128(nil), rs...)
	sort.SliceStable(z, func(i, j int) bool {
		if real(z[i]) != real(z[j]) {
			return real(z[i]) < real(z[j])
		}
		return math.Abs(imag(z[i])) < math.Abs(imag(z[j]))
	})
	var zr, zp, zn []complex128
	for _, r := range z {
		switch {
		case math.Abs(imag(r)) <= tol*cmplx.Abs(r):
			zr = append(zr, complex(real(r), 0))
		case imag(r) > 0:
			zp = append(zp, r)
		default:
			zn = append(zn, r)
		}
	}
	if len(zp) != len(zn) {
		panic("dsp: complex root without its conjugate")
	}
	// Within runs of (nearly) equal real part, order by |imag|.
	for start := 0; start < len(zp); {
		stop := start + 1
		for stop < len(zp) && real(zp[stop])-real(zp[stop-1]) <= tol*cmplx.Abs(zp[stop-1]) {
			stop++
		}
		for _, chunk := range [][]complex128{zp[start:stop], zn[start:stop]} {
			sort.SliceStable(chunk, func(i, j int) bool {
				return math.Abs(imag(chunk[i])) < math.Abs(imag(chunk[j]))
			})
		}
		start = stop
	}
	out := make([]complex128, 0, len(zp)+len(zr))
	for i := range zp {
		out = append(out, (zp[i]+cmplx.Conj(zn[i]))/2)
	}
	return append(out, zr...)
}

func isReal(c complex128) bool { return imag(c) == 0 }

// nearestIdx returns the index of the root in rs nearest to to, restricted
// to real roots (which = 'r'), complex ones ('c') or any ('a'); -1 if none.
func nearestIdx(rs []complex128, to complex128, which byte) int {
	best, bestD := -1, math.Inf(1)
	for i, r := range rs {
		if (which == 'r' && !isReal(r)) || (which == 'c' && isReal(r)) {
			continue
		}
		if d := cmplx.Abs(r - to); d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// worstIdx returns the index of the pole nearest the unit circle (the first
// one on a tie), among those for which keep returns true.
func worstIdx(p []complex128, keep func(complex128) bool) int {
	best, bestD := -1, math.Inf(1)
	for i, r := range p {
		if !keep(r) {
			continue
		}
		if d := math.Abs(1 - cmplx.Abs(r)); d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

func remove(rs []complex128, i int) []complex128 { return append(rs[:i], rs[i+1:]...) }

// poly2 returns the monic polynomial coefficients [1, c1, c2] with the given
// (at most two) roots, as numpy.poly computes them, taking the real part.
func poly2(roots ...complex128) (c1, c2 float64) {
	a := [3]complex128{1, 0, 0}
	for i, r := range roots {
		// multiply by (1 - r z^-1)
		for j := i + 1; j >= 1; j-- {
			a[j] -= r * a[j-1]
		}
	}
	return real(a[1]), real(a[2])
}

// single builds one section from up to two zeros and two poles, placing a
// lower-degree polynomial at the end as scipy's _single_zpksos does (so one
// zero gives b = [0, 1, -z1]).
func single(zs, ps []complex128) Biquad {
	var q Biquad
	b1, b2 := poly2(zs...)
	switch len(zs) {
	case 0:
		q.B2 = 1
	case 1:
		q.B1, q.B2 = 1, b1
	default:
		q.B0, q.B1, q.B2 = 1, b1, b2
	}
	a1, a2 := poly2(ps...)
	switch len(ps) {
	case 1:
		// a = [0, 1, -p1] would not be normalised; never produced for the
		// designs here, which pad odd orders with a pole at 0.
		panic("dsp: single pole section")
	default:
		q.A1, q.A2 = a1, a2
	}
	return q
}

// sos pairs a digital zpk into second-order sections the way
// scipy.signal.zpk2sos(z, p, k) does with its default 'nearest' pairing:
// poles are taken from the one nearest the unit circle down, each paired
// with the zeros nearest to it, and the sections are ordered so that the
// poles nearest the unit circle come last. The whole gain goes into the
// first section's numerator.
func (f zpk) sos() []Biquad {
	z := append([]complex128(nil), f.z...)
	p := append([]complex128(nil), f.p...)
	if len(z) == 0 && len(p) == 0 {
		return []Biquad{{B0: f.k}}
	}
	for len(p) < len(z) {
		p = append(p, 0)
	}
	for len(z) < len(p) {
		z = append(z, 0)
	}
	n := (len(p) + 1) / 2
	if len(p)%2 == 1 {
		p = append(p, 0)
		z = append(z, 0)
	}
	z = cplxreal(z)
	p = cplxreal(p)
	all := func(complex128) bool { return true }
	countReal := func(rs []complex128) int {
		c := 0
		for _, r := range rs {
			if isReal(r) {
				c++
			}
		}
		return c
	}
	out := make([]Biquad, n)
	for si := n - 1; si >= 0; si-- {
		i := worstIdx(p, all)
		p1 := p[i]
		p = remove(p, i)
		switch {
		case isReal(p1) && countReal(p) == 0:
			j := nearestIdx(z, p1, 'r')
			z1 := z[j]
			z = remove(z, j)
			out[si] = single([]complex128{z1, 0}, []complex128{p1, 0})
		case len(p)+1 == len(z) && !isReal(p1) && countReal(p) == 1 && countReal(z) == 1:
			j := nearestIdx(z, p1, 'c')
			z1 := z[j]
			z = remove(z, j)
			out[si] = single([]complex128{z1, cmplx.Conj(z1)}, []complex128{p1, cmplx.Conj(p1)})
		default:
			var p2 complex128
			if isReal(p1) {
				j := worstIdx(p, isReal)
				p2 = p[j]
				p = remove(p, j)
			} else {
				p2 = cmplx.Conj(p1)
			}
			ps := []complex128{p1, p2}
			if len(z) == 0 {
				out[si] = single(nil, ps)
				break
			}
			j := nearestIdx(z, p1, 'a')
			z1 := z[j]
			z = remove(z, j)
			switch {
			case !isReal(z1):
				out[si] = single([]complex128{z1, cmplx.Conj(z1)}, ps)
			case len(z) > 0:
				j := nearestIdx(z, p1, 'r')
				z2 := z[j]
				z = remove(z, j)
				out[si] = single([]complex128{z1, z2}, ps)
			default:
				out[si] = single([]complex128{z1}, ps)
			}
		}
	}
	out[0].B0 *= f.k
	out[0].B1 *= f.k
	out[0].B2 *= f.k
	return out
}

// checkRate validates a sampling rate.
func checkRate(what string, fs float64) error {
	if !(fs > 0) || math.IsInf(fs, 0) {
		return fmt.Errorf("%w: %s: sampling rate %g Hz must be positive and finite", ErrParam, what, fs)
	}
	return nil
}

// checkFreq validates a frequency strictly between 0 and Nyquist.
func checkFreq(what, name string, f, fs float64) error {
	if !(f > 0 && f < fs/2) {
		return fmt.Errorf("%w: %s: %s %g Hz must be in (0, %g) (0 to Nyquist for fs %g Hz)",
			ErrParam, what, name, f, fs/2, fs)
	}
	return nil
}

func checkOrder(what string, order int) error {
	if order < 1 || order > MaxButterOrder {
		return fmt.Errorf("%w: %s: order %d must be in [1, %d]", ErrParam, what, order, MaxButterOrder)
	}
	return nil
}

// warp pre-warps a digital frequency f (Hz, rate fs) to the analog
// frequency, in scipy's normalisation where the bilinear transform uses an
// internal rate of 2: 4 tan(π Wn / 2) with Wn = f/(fs/2).
func warp(f, fs float64) float64 {
	wn := f / (fs / 2)
	return 2 * 2 * math.Tan(math.Pi*wn/2)
}

// ButterLowpass designs a digital Butterworth lowpass filter of the given
// order with its -3.01 dB point (|H| = 1/√2) at fc Hz, for sampling rate fs
// Hz, as second-order sections: the analog prototype's poles are scaled to
// the pre-warped cutoff, mapped through the bilinear transform (all zeros at
// z = -1) and paired into sections exactly as
// scipy.signal.butter(order, fc, 'lowpass', fs=fs, output='sos') does.
// |H(f)|^2 = 1/(1 + (tan(πf/fs)/tan(πfc/fs))^(2·order)); DC gain is 1.
// It returns an error wrapping ErrParam if order is not in
// [1, MaxButterOrder], fs is not positive and finite, or fc is not in
// (0, fs/2).
func ButterLowpass(order int, fc, fs float64) (*SOS, error) {
	const what = "butterworth lowpass"
	if err := validate(what, order, fs, "cutoff", fc); err != nil {
		return nil, err
	}
	f := buttap(order).lp2lp(warp(fc, fs)).bilinear(2)
	return NewSOS(f.sos()), nil
}

// ButterHighpass designs a digital Butterworth highpass filter of the given
// order with its -3.01 dB point at fc Hz, for sampling rate fs Hz, as
// second-order sections matching
// scipy.signal.butter(order, fc, 'highpass', fs=fs, output='sos'): the
// prototype is transformed with s -> wc/s (all zeros at z = +1).
// |H(f)|^2 = 1/(1 + (tan(πfc/fs)/tan(πf/fs))^(2·order)); gain at Nyquist is 1.
// Errors as for ButterLowpass.
func ButterHighpass(order int, fc, fs float64) (*SOS, error) {
	const what = "butterworth highpass"
	if err := validate(what, order, fs, "cutoff", fc); err != nil {
		return nil, err
	}
	f := buttap(order).lp2hp(warp(fc, fs)).bilinear(2)
	return NewSOS(f.sos()), nil
}

// ButterBandpass designs a digital Butterworth bandpass filter from a
// lowpass prototype of the given order (so 2·order poles and order
// sections, as scipy), passing lo to hi Hz with -3.01 dB at both edges, for
// sampling rate fs Hz. It matches
// scipy.signal.butter(order, [lo, hi], 'bandpass', fs=fs, output='sos'):
// both edges are pre-warped, the prototype is shifted to the geometric
// centre sqrt(wlo·whi) with bandwidth whi - wlo, and order zeros each land at
// z = +1 and z = -1. The gain is 1 at the (pre-warped) geometric centre.
// Errors as for ButterLowpass, and when lo >= hi.
func ButterBandpass(order int, lo, hi, fs float64) (*SOS, error) {
	const what = "butterworth bandpass"
	if err := validate(what, order, fs, "lower edge", lo); err != nil {
		return nil, err
	}
	if err := checkFreq(what, "upper edge", hi, fs); err != nil {
		return nil, err
	}
	if !(lo < hi) {
		return nil, fmt.Errorf("%w: %s: lower edge %g Hz must be below upper edge %g Hz", ErrParam, what, lo, hi)
	}
	wlo, whi := warp(lo, fs), warp(hi, fs)
	f := buttap(order).lp2bp(math.Sqrt(wlo*whi), whi-wlo).bilinear(2)
	return NewSOS(f.sos()), nil
}

func validate(what string, order int, fs float64, name string, fc float64) error {
	if err := checkOrder(what, order); err != nil {
		return err
	}
	if err := checkRate(what, fs); err != nil {
		return err
	}
	return checkFreq(what, name, fc, fs)
}
