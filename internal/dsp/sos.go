package dsp

import (
	"math"
	"math/cmplx"
)

// Biquad holds one second-order section's coefficients, normalised so that
// a0 = 1. Its difference equation is
//
//	y[n] = b0 x[n] + b1 x[n-1] + b2 x[n-2] - a1 y[n-1] - a2 y[n-2]
//
// and its transfer function H(z) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2).
// The field order matches one row of scipy's sos array without a0:
// [b0, b1, b2, 1, a1, a2].
type Biquad struct{ B0, B1, B2, A1, A2 float64 }

// Response returns H(e^{jω}) of the section at the normalised angular
// frequency ω (radians per sample).
func (q Biquad) Response(omega float64) complex128 {
	z1 := cmplx.Rect(1, -omega) // z^-1
	z2 := z1 * z1
	num := complex(q.B0, 0) + complex(q.B1, 0)*z1 + complex(q.B2, 0)*z2
	den := 1 + complex(q.A1, 0)*z1 + complex(q.A2, 0)*z2
	return num / den
}

// Stable reports whether both poles of the section lie strictly inside the
// unit circle, using the stability triangle |a2| < 1 and |a1| < 1 + a2.
func (q Biquad) Stable() bool {
	return math.Abs(q.A2) < 1 && math.Abs(q.A1) < 1+q.A2
}

// section is a Biquad with its transposed-direct-form-II state.
type section struct {
	b0, b1, b2, a1, a2 float64
	s1, s2             float64
}

// SOS is a cascade of second-order sections with state, each run in
// transposed direct form II:
//
//	y  = b0 x + s1
//	s1 = b1 x - a1 y + s2
//	s2 = b2 x - a2 y
//
// The state starts at zero (the filter assumes the input was 0 before the
// first sample, so a step input shows the filter's full start-up transient).
// Step allocates nothing. An SOS is not safe for concurrent use; give each
// channel its own.
type SOS struct {
	secs []section
}

// NewSOS returns a cascade of the given sections, in order, with zero state.
// The slice is copied. An empty slice gives the identity filter.
func NewSOS(sections []Biquad) *SOS {
	s := &SOS{secs: make([]section, len(sections))}
	for i, q := range sections {
		s.secs[i] = section{b0: q.B0, b1: q.B1, b2: q.B2, a1: q.A1, a2: q.A2}
	}
	return s
}

// Step filters one sample through every section and returns the output.
func (s *SOS) Step(x float64) float64 {
	for i := range s.secs {
		c := &s.secs[i]
		y := c.b0*x + c.s1
		c.s1 = c.b1*x - c.a1*y + c.s2
		c.s2 = c.b2*x - c.a2*y
		x = y
	}
	return x
}

// Filter runs Step over src, writing the outputs into dst and returning it.
// If dst is nil a new slice is allocated; otherwise it must have len(src)
// (dst may be src itself, for filtering in place).
func (s *SOS) Filter(dst, src []float64) []float64 {
	if dst == nil {
		dst = make([]float64, len(src))
	} else if len(dst) != len(src) {
		panic("dsp: SOS.Filter: destination length mismatch")
	}
	for i, x := range src {
		dst[i] = s.Step(x)
	}
	return dst
}

// Reset clears the state of every section, as if no sample had been seen.
func (s *SOS) Reset() {
	for i := range s.secs {
		s.secs[i].s1, s.secs[i].s2 = 0, 0
	}
}

// Sections returns a copy of the cascade's coefficients, in filtering order.
func (s *SOS) Sections() []Biquad {
	out := make([]Biquad, len(s.secs))
	for i, c := range s.secs {
		out[i] = Biquad{B0: c.b0, B1: c.b1, B2: c.b2, A1: c.a1, A2: c.a2}
	}
	return out
}

// Response returns the cascade's frequency response H(e^{j2πf/fs}) at
// frequency f for sampling rate fs (both in Hz): the product of the
// sections' responses. |Response| is the steady-state gain of a sine at f,
// and arg(Response) its phase shift.
func (s *SOS) Response(f, fs float64) complex128 {
	omega := 2 * math.Pi * f / fs
	h := complex(1, 0)
	for _, c := range s.secs {
		h *= Biquad{B0: c.b0, B1: c.b1, B2: c.b2, A1: c.a1, A2: c.a2}.Response(omega)
	}
	return h
}

// Stable reports whether every section's poles lie strictly inside the unit
// circle (see Biquad.Stable).
func (s *SOS) Stable() bool {
	for _, c := range s.secs {
		if !(Biquad{A1: c.a1, A2: c.a2}).Stable() {
			return false
		}
	}
	return true
}

// Cascade returns a new filter that runs a and then b: its sections are a's
// followed by b's, its response is the product of theirs, and its state
// starts at zero (a and b are not changed).
func Cascade(a, b *SOS) *SOS {
	c := &SOS{secs: make([]section, 0, len(a.secs)+len(b.secs))}
	for _, q := range a.secs {
		q.s1, q.s2 = 0, 0
		c.secs = append(c.secs, q)
	}
	for _, q := range b.secs {
		q.s1, q.s2 = 0, 0
		c.secs = append(c.secs, q)
	}
	return c
}
