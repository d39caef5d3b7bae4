package csv

import (
	"math"

	"github.com/twitchd/twitchd/internal/decode/textnum"
)

// fracScale[i] is the weight, in 1e-18, of fraction digit i.
var fracScale = [18]uint64{1e17, 1e16, 1e15, 1e14, 1e13, 1e12, 1e11, 1e10, 1e9,
	1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1}

// decimal is a time cell split exactly into a signed integer part and a
// fraction in units of 1e-18 of that part's unit. Keeping them apart is what
// lets 1700000000.001 s become exactly 1700000000001000000 ns, where a
// float64 would be off by up to ~100 ns at today's epoch.
type decimal struct {
	neg   bool
	ipart uint64 // integer part, magnitude
	frac  uint64 // fraction × 1e18, truncated (see nanos for why that is exact)
	// approx is the value of a cell in exponent notation, as a float64
	// (ipart and frac are then derived from it); exp says it is set.
	// Plain decimals compute it only when asked (value): it is needed for
	// the first time cell alone.
	approx float64
	exp    bool
}

// value returns d as a float64, for magnitude decisions.
func (d decimal) value() float64 {
	if d.exp {
		return d.approx
	}
	a := float64(d.ipart) + float64(d.frac)/1e18
	if d.neg {
		a = -a
	}
	return a
}

// parseDecimal parses a time cell. Plain decimals are split exactly;
// other forms strconv accepts (exponents) go through float64 and are then
// only as precise as a float64 (about 0.2 µs at today's epoch in seconds).
func parseDecimal(b []byte) (d decimal, ok bool) {
	i := 0
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		d.neg = b[0] == '-'
		i = 1
	}
	nd := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if d.ipart > (math.MaxUint64-9)/10 {
			return slowDecimal(b)
		}
		d.ipart = d.ipart*10 + uint64(b[i]-'0')
		nd++
	}
	if i < len(b) && b[i] == '.' {
		i++
		pos := 0 // fraction digits seen; past the 18th they cannot change the result
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if pos < 18 {
				d.frac += uint64(b[i]-'0') * fracScale[pos]
			}
			pos++
			nd++
		}
	}
	if i != len(b) {
		return slowDecimal(b)
	}
	if nd == 0 {
		return decimal{}, false
	}
	return d, true
}

// slowDecimal handles exponent notation through strconv.
func slowDecimal(b []byte) (decimal, bool) {
	v, ok := textnum.ParseFinite(b)
	if !ok {
		return decimal{}, false
	}
	d := decimal{neg: v < 0, approx: v, exp: true}
	a := math.Abs(v)
	if a >= 1<<63 {
		d.ipart = math.MaxUint64 // too large for any unit: nanos reports it
		return d, true
	}
	ip := math.Floor(a)
	d.ipart = uint64(ip)
	d.frac = min(uint64(math.Round((a-ip)*1e18)), 1e18-1)
	return d, true
}

// nanos converts d, counted in units of unitNS nanoseconds (1, 1e3, 1e6
// or 1e9: a divisor of 1e18), to nanoseconds rounded to the nearest,
// halves away from zero. ok is false when the result does not fit an
// int64.
//
// Truncating the fraction to 18 digits loses nothing: in units of
// D = 1e18/unitNS the kept fraction is a whole number of 1e-18 steps and
// the rounding threshold D/2 is one too, so the dropped tail, worth less
// than one step, cannot carry the value past a threshold; it can only
// make an exact tie a little more, which rounds up like the tie itself.
func (d decimal) nanos(unitNS int64) (int64, bool) {
	u := uint64(unitNS)
	if d.ipart > math.MaxInt64/u {
		return 0, false
	}
	n := d.ipart * u
	div := 1e18 / u
	f := (d.frac + div/2) / div
	if n > math.MaxInt64-f {
		return 0, false
	}
	n += f
	if d.neg {
		return -int64(n), true
	}
	return int64(n), true
}
