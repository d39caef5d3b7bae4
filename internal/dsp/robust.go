package dsp

import "math"

// MADScale turns a median absolute deviation into an estimate of the
// standard deviation for Gaussian data: 1/Φ⁻¹(3/4) ≈ 1.4826.
const MADScale = 1.4826

// RobustWindow keeps the last n values pushed in a ring and computes robust
// statistics of them on demand: Median, MAD, Sigma and Quantile each copy
// the values into a scratch buffer and run a quickselect (expected O(n), no
// allocation), so they are meant to be called rarely (say once per 0.1-1 s),
// not per sample. Until n values have been pushed the statistics use the
// values held; with none they return NaN. NaN values make the results
// unspecified. A RobustWindow is not safe for concurrent use.
type RobustWindow struct {
	vals    ring
	scratch []float64
}

// NewRobustWindow returns a window of the last n values. It panics if n < 1.
func NewRobustWindow(n int) *RobustWindow {
	return &RobustWindow{vals: newRing("NewRobustWindow", n), scratch: make([]float64, n)}
}

// Push adds x, replacing the oldest value once the window is full.
func (r *RobustWindow) Push(x float64) { r.vals.push(x) }

// Len returns the number of values held, at most the window length.
func (r *RobustWindow) Len() int { return r.vals.count }

// Cap returns the window length n.
func (r *RobustWindow) Cap() int { return len(r.vals.buf) }

// Reset empties the window.
func (r *RobustWindow) Reset() { r.vals.reset() }

// Median returns the median of the values held: the middle one for an odd
// count, the mean of the two middle ones for an even count; NaN when empty.
func (r *RobustWindow) Median() float64 {
	if r.vals.count == 0 {
		return math.NaN()
	}
	s := r.scratch[:r.vals.count]
	copy(s, r.vals.held())
	return median(s)
}

// MAD returns the median absolute deviation, median(|x - median(x)|), of
// the values held; NaN when empty.
func (r *RobustWindow) MAD() float64 {
	med := r.Median()
	if math.IsNaN(med) {
		return med
	}
	s := r.scratch[:r.vals.count]
	for i, x := range r.vals.held() {
		s[i] = math.Abs(x - med)
	}
	return median(s)
}

// Sigma returns MADScale * MAD(): a standard-deviation estimate that a
// minority of outliers (up to half the window) cannot inflate.
func (r *RobustWindow) Sigma() float64 { return MADScale * r.MAD() }

// Quantile returns the q-quantile (0 <= q <= 1) of the values held, with
// linear interpolation between order statistics as numpy.quantile's default
// ('linear', Hyndman-Fan type 7): with the m values sorted as x(0..m-1) and
// h = (m-1) q, it is x(⌊h⌋) + (h-⌊h⌋)(x(⌊h⌋+1) - x(⌊h⌋)). Quantile(0) is
// the minimum, Quantile(1) the maximum, Quantile(0.5) the median. NaN when
// empty. It panics if q is outside [0, 1] or NaN.
func (r *RobustWindow) Quantile(q float64) float64 {
	if !(q >= 0 && q <= 1) {
		panic("dsp: RobustWindow.Quantile: q must be in [0, 1]")
	}
	if r.vals.count == 0 {
		return math.NaN()
	}
	s := r.scratch[:r.vals.count]
	copy(s, r.vals.held())
	h := float64(len(s)-1) * q
	lo := int(h)
	frac := h - float64(lo)
	v := selectK(s, lo)
	if frac == 0 || lo+1 >= len(s) {
		return v
	}
	// After selectK, s[lo+1:] holds the values above s[lo]: the next order
	// statistic is their minimum.
	next := s[lo+1]
	for _, x := range s[lo+2:] {
		next = min(next, x)
	}
	return v + frac*(next-v)
}

// median returns the median of s, reordering s.
func median(s []float64) float64 {
	k := len(s) / 2
	v := selectK(s, k)
	if len(s)%2 == 1 {
		return v
	}
	// s[:k] holds the values below s[k]: the lower middle is their maximum.
	lower := s[0]
	for _, x := range s[1:k] {
		lower = max(lower, x)
	}
	return (lower + v) / 2
}

// selectK reorders s so that s[k] is the k-th smallest value (0-based), every
// value before it is <= s[k] and every value after it is >= s[k], and
// returns s[k]. It is Hoare's selection with a median-of-three pivot and
// Hoare partitioning, which stays balanced when many values are equal (as
// with quantised ADC samples).
func selectK(s []float64, k int) float64 {
	l, r := 0, len(s)-1
	for l < r {
		m := l + (r-l)/2
		// median of three as the pivot value
		a, b, c := s[l], s[m], s[r]
		if a > b {
			a, b = b, a
		}
		if b > c {
			b = c
			if a > b {
				b = a
			}
		}
		x := b
		i, j := l, r
		for i <= j {
			for s[i] < x {
				i++
			}
			for x < s[j] {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		// now s[l..j] <= x <= s[i..r], and j < i
		switch {
		case k <= j:
			r = j
		case k >= i:
			l = i
		default:
			return s[k] // j < k < i: s[k] == x
		}
	}
	return s[k]
}
