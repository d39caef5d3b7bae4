// Package textnum parses the numbers of text recordings (CSV cells,
// OpenBCI and ActiLife columns) from byte slices without allocating. It
// is shared by the text decoders so that they all read a number the same
// way strconv would, at a fraction of its cost on plain decimals.
package textnum

import (
	"math"
	"strconv"
	"unsafe"
)

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
}

// ParseFloat parses b as strconv.ParseFloat(string(b), 64) would, without
// allocating. Plain decimals ([+-]digits[.digits]) whose digits form an
// integer below 2^53 with at most 22 after the point take the exact fast
// path: one correctly rounded division of two exactly representable
// numbers, which is what strconv does for them too. Anything else
// (exponents, long mantissas, hex, inf, nan) goes to strconv. ok is false
// when b is not a number or is out of float64's range; the value may be
// NaN or ±Inf (spelled out) for the caller to reject, see ParseFinite.
func ParseFloat(b []byte) (v float64, ok bool) {
	i := 0
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i = 1
	}
	var mant uint64
	nd, digits, frac := 0, 0, 0
	dot := false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			nd++
			if digits > 0 || c != '0' {
				digits++
			}
			if digits > 16 {
				return slow(b)
			}
			mant = mant*10 + uint64(c-'0')
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return slow(b)
		}
	}
	if nd == 0 { // "", "+", ".", "-." are not numbers
		return 0, false
	}
	if mant >= 1<<53 || frac > 22 {
		return slow(b)
	}
	v = float64(mant)
	if frac > 0 {
		v /= pow10[frac]
	}
	if neg {
		v = -v
	}
	return v, true
}

// ParseFinite is ParseFloat that also refuses NaN and ±Inf, for columns
// where only a finite measurement makes sense.
func ParseFinite(b []byte) (float64, bool) {
	v, ok := ParseFloat(b)
	if !ok || !Finite(v) {
		return 0, false
	}
	return v, true
}

// Finite reports whether v is neither NaN nor ±Inf.
func Finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// slow is the strconv fallback. The string shares b's memory and does not
// outlive the call: strconv copies it into any error it returns, and the
// error is dropped here.
func slow(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil {
		return 0, false
	}
	return v, true
}
