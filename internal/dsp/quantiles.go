package dsp

import "math"

// SlidingQuantiles tracks a few fixed quantiles of the last n values pushed,
// on a logarithmic grid: each value is put in a bin of relative width res
// between lo and hi (values at or below lo, zero, negative or NaN go to the
// first bin, values at or above hi to the last), a ring of bin numbers
// remembers the window, and each tracked quantile keeps a cursor on the
// histogram that moves as values come and go. Push is O(1) amortised (the
// cursors move by the few bins the distribution shifts) and Quantile is
// O(1), where RobustWindow copies and selects the whole window per query;
// the price is a relative error below res: the value returned lies in the
// same bin as the true order statistic (interpolated inside the bin as if
// its values were spread evenly in the log domain).
//
// Quantile i is the order statistic of rank floor(q_i (m-1)) among the m
// values held (0-based), the lower of the two that numpy's 'linear'
// method interpolates between. A SlidingQuantiles is not safe for
// concurrent use; Push allocates nothing.
type SlidingQuantiles struct {
	log2Lo, invStep, step float64 // log2 of lo, bins per octave, octaves per bin
	counts                []int32
	ring                  []uint16
	pos, count            int
	qs                    []float64
	bin, below            []int // per tracked quantile: its bin and the values in lower bins
	ranks                 []int // per tracked quantile: its rank among the values held (see rank)
}

// NewSlidingQuantiles returns a tracker of the quantiles qs (each in
// [0, 1]) over the last n values, binned from lo to hi (0 < lo < hi) with
// relative resolution res (e.g. 0.02 for 2 %). It panics on a window
// shorter than 1, a bad range or resolution, more than 65535 bins, or a
// quantile outside [0, 1].
func NewSlidingQuantiles(n int, lo, hi, res float64, qs ...float64) *SlidingQuantiles {
	if n < 1 {
		panic("dsp: NewSlidingQuantiles: window length must be at least 1")
	}
	if !(lo > 0) || !(hi > lo) || math.IsInf(hi, 0) || !(res > 0) {
		panic("dsp: NewSlidingQuantiles: need 0 < lo < hi finite and res > 0")
	}
	step := math.Log2(1 + res)
	nb := int(math.Ceil(math.Log2(hi/lo)/step)) + 1
	if nb > math.MaxUint16 {
		panic("dsp: NewSlidingQuantiles: too many bins; widen res or narrow the range")
	}
	for _, q := range qs {
		if !(q >= 0 && q <= 1) {
			panic("dsp: NewSlidingQuantiles: quantiles must be in [0, 1]")
		}
	}
	return &SlidingQuantiles{
		log2Lo: math.Log2(lo), invStep: 1 / step, step: step,
		counts: make([]int32, nb),
		ring:   make([]uint16, n),
		qs:     append([]float64(nil), qs...),
		bin:    make([]int, len(qs)),
		below:  make([]int, len(qs)),
		ranks:  make([]int, len(qs)),
	}
}

// binOf returns the bin of x.
func (s *SlidingQuantiles) binOf(x float64) int {
	if !(x > 0) {
		return 0
	}
	b := (fastLog2(x) - s.log2Lo) * s.invStep
	switch {
	case !(b > 0):
		return 0
	case b >= float64(len(s.counts)-1):
		return len(s.counts) - 1
	}
	return int(b)
}

// Push adds x, dropping the oldest value once the window is full.
func (s *SlidingQuantiles) Push(x float64) {
	b := s.binOf(x)
	if s.count == len(s.ring) {
		old := int(s.ring[s.pos])
		s.counts[old]--
		for i := range s.bin {
			if old < s.bin[i] {
				s.below[i]--
			}
		}
	} else {
		s.count++
		for i, q := range s.qs {
			s.ranks[i] = int(q * float64(s.count-1))
		}
	}
	s.ring[s.pos] = uint16(b)
	s.pos++
	if s.pos == len(s.ring) {
		s.pos = 0
	}
	s.counts[b]++
	for i := range s.bin {
		if b < s.bin[i] {
			s.below[i]++
		}
		s.settle(i)
	}
}

// settle moves cursor i until its bin holds the target rank.
func (s *SlidingQuantiles) settle(i int) {
	r := s.rank(i)
	b, below := s.bin[i], s.below[i]
	for r < below {
		b--
		below -= int(s.counts[b])
	}
	for r >= below+int(s.counts[b]) {
		below += int(s.counts[b])
		b++
	}
	s.bin[i], s.below[i] = b, below
}

func (s *SlidingQuantiles) rank(i int) int { return s.ranks[i] }

// Quantile returns the value of the i-th tracked quantile (in the order
// given to NewSlidingQuantiles), NaN while the window is empty.
func (s *SlidingQuantiles) Quantile(i int) float64 {
	if s.count == 0 {
		return math.NaN()
	}
	b := s.bin[i]
	frac := (float64(s.rank(i)-s.below[i]) + 0.5) / float64(s.counts[b])
	return math.Exp2(s.log2Lo + (float64(b)+frac)*s.step)
}

// fastLog2 returns log2(x) for a positive normal x to within 3e-4: the
// exponent from the bits, and the mantissa's log from a quartic fitted
// (least squares) on [1, 2). Binning at a percent needs no more, and it
// is several times cheaper than math.Log, which Push calls per value.
func fastLog2(x float64) float64 {
	bits := math.Float64bits(x)
	e := float64(int((bits>>52)&0x7ff) - 1023)
	u := math.Float64frombits(bits&^(0x7ff<<52)|1023<<52) - 1 // mantissa - 1, in [0, 1)
	return e + 0.00020317919 + u*(1.4361078+u*(-0.66954229+u*(0.31224099-0.079158166*u)))
}

// Len returns the number of values held, at most the window length.
func (s *SlidingQuantiles) Len() int { return s.count }

// Cap returns the window length n.
func (s *SlidingQuantiles) Cap() int { return len(s.ring) }

// Reset empties the window.
func (s *SlidingQuantiles) Reset() {
	clear(s.counts)
	s.pos, s.count = 0, 0
	clear(s.bin)
	clear(s.below)
	clear(s.ranks)
}
