package textnum

import (
	"math"
	"strconv"
	"testing"
)

// TestParseFinite checks the fast path against strconv on tricky inputs,
// and that what is not a finite number is refused.
func TestParseFinite(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "-1.5", "0.1", "0.3", "61379.36", "-16597.06", "0.040", "+2.5",
		"1e-3", "123456789012345", "1234567890123456789", "0.1234567890123456789", "1.", ".5", "-.25",
		"9007199254740993", "9007199254740991", "4503599627370496.5", "3.14159265358979", "1557936053329"} {
		want, err := strconv.ParseFloat(s, 64)
		got, ok := ParseFinite([]byte(s))
		if ok != (err == nil) || ok && math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("ParseFinite(%q) = %v, %v; strconv says %v, %v", s, got, ok, want, err)
		}
	}
	for _, s := range []string{"", "-", ".", "abc", "1.2.3", "NaN", "Inf", "-inf", "1e999", "--1"} {
		if v, ok := ParseFinite([]byte(s)); ok {
			t.Errorf("ParseFinite(%q) = %v, want rejection", s, v)
		}
	}
}

// TestParseFloatNonFinite checks that ParseFloat, unlike ParseFinite,
// passes spelled-out NaN and infinities through as strconv does.
func TestParseFloatNonFinite(t *testing.T) {
	cases := []struct {
		in   string
		want float64
	}{
		{"inf", math.Inf(1)},
		{"-Infinity", math.Inf(-1)},
		{"NaN", math.NaN()},
	}
	for _, c := range cases {
		got, ok := ParseFloat([]byte(c.in))
		if !ok || math.Float64bits(got) != math.Float64bits(c.want) && !(math.IsNaN(got) && math.IsNaN(c.want)) {
			t.Errorf("ParseFloat(%q) = %v, %v; want %v", c.in, got, ok, c.want)
		}
		if Finite(got) {
			t.Errorf("Finite(%v) = true", got)
		}
	}
}

// FuzzParseFloat checks the fast path against strconv.ParseFloat: the
// same bits whenever strconv succeeds, a refusal whenever it fails; and
// ParseFinite agrees with ParseFloat on finite values and refuses the rest.
func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"0", "-0", "1.5", "-0.000123", ".5", "5.", "+3", "1e5", "9007199254740993",
		"123456789012345678", "0.1234567890123456789012345", "nan", "inf", "-", ".", "", "1.2.3", "0x1p-2",
		"00000000000000000000001.5", "4503599627370496.5", "61379.36", "1e999", "--1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := ParseFloat(b)
		want, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			if ok {
				t.Fatalf("ParseFloat(%q) = %v, strconv says %v", b, got, err)
			}
		} else {
			if !ok {
				t.Fatalf("ParseFloat(%q) refused, strconv gives %v", b, want)
			}
			if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Fatalf("ParseFloat(%q) = %v, strconv %v", b, got, want)
			}
		}
		fin, fok := ParseFinite(b)
		if wantOK := err == nil && Finite(want); fok != wantOK || fok && math.Float64bits(fin) != math.Float64bits(want) {
			t.Fatalf("ParseFinite(%q) = %v, %v; strconv says %v, %v", b, fin, fok, want, err)
		}
	})
}

var sink float64

// BenchmarkParseFloat measures the fast path on typical cells against
// strconv.
func BenchmarkParseFloat(b *testing.B) {
	cells := [][]byte{[]byte("0.0123"), []byte("-0.9876"), []byte("61379.36"), []byte("-0.000457")}
	for _, bc := range []struct {
		name  string
		parse func([]byte) (float64, bool)
	}{{"fast", ParseFinite}, {"strconv", slow}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := range b.N {
				v, _ := bc.parse(cells[i&3])
				sink += v
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/sample")
		})
	}
}
