package edf

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// SignalHeader is one signal's part of the header, fields trimmed of
// their space padding.
type SignalHeader struct {
	Label            string
	Transducer       string
	PhysDim          string // physical dimension, e.g. "uV"
	PhysMin, PhysMax float64
	DigMin, DigMax   int64
	Prefilter        string
	SamplesPerRecord int
	Reserved         string
}

// IsAnnotations reports whether the signal is an EDF+/BDF+ annotation
// signal.
func (s SignalHeader) IsAnnotations() bool {
	return s.Label == "EDF Annotations" || s.Label == "BDF Annotations"
}

// Header is the fixed part of an EDF or BDF header, fields trimmed.
type Header struct {
	BDF            bool   // 24-bit BDF (version byte 0xFF, "BIOSEMI")
	Version        string // "0" for EDF, "BIOSEMI" for BDF
	Patient        string
	Recording      string
	StartDate      string // "dd.mm.yy" as written
	StartTime      string // "hh.mm.ss" as written
	Start          time.Time
	HeaderBytes    int
	Reserved       string // "EDF+C", "EDF+D", "BDF+C", "BDF+D" or empty
	Records        int64  // -1 when unknown
	RecordDuration int64  // nanoseconds
	Signals        []SignalHeader
}

// Plus reports whether the file is EDF+ or BDF+.
func (h *Header) Plus() bool {
	return strings.HasPrefix(h.Reserved, "EDF+") || strings.HasPrefix(h.Reserved, "BDF+")
}

// Discontinuous reports EDF+D or BDF+D.
func (h *Header) Discontinuous() bool {
	return h.Plus() && len(h.Reserved) >= 5 && h.Reserved[4] == 'D'
}

// sampleSize is 2 bytes for EDF, 3 for BDF.
func (h *Header) sampleSize() int {
	if h.BDF {
		return 3
	}
	return 2
}

// headerError locates a bad header field.
func headerError(name string, off int64, format string, args ...any) error {
	return &pipeline.LineError{File: name, Offset: off, Reason: "header: " + fmt.Sprintf(format, args...)}
}

// readHeader reads and checks both parts of the header.
func readHeader(r io.Reader, name string) (*Header, error) {
	var fixed [256]byte
	if n, err := io.ReadFull(r, fixed[:]); err != nil {
		return nil, headerError(name, int64(n), "file ends inside the 256-byte fixed header (%d bytes)", n)
	}
	h := &Header{}
	field := func(off, n int) string { return strings.TrimRight(string(fixed[off:off+n]), " \x00") }
	switch {
	case fixed[0] == 0xFF && string(fixed[1:8]) == "BIOSEMI":
		h.BDF, h.Version = true, "BIOSEMI"
	case field(0, 8) == "0":
		h.Version = "0"
	default:
		return nil, headerError(name, 0, "version %q: not EDF (\"0\") or BDF (0xFF BIOSEMI)", fixed[:8])
	}
	for i, c := range fixed[8:] {
		if c < 0x20 || c > 0x7e {
			return nil, headerError(name, int64(8+i), "byte 0x%02x is not printable ASCII", c)
		}
	}
	h.Patient, h.Recording = field(8, 80), field(88, 80)
	h.StartDate, h.StartTime = field(168, 8), field(176, 8)
	var err error
	if h.Start, err = parseStart(h.StartDate, h.StartTime, h.Recording); err != nil {
		return nil, headerError(name, 168, "%v", err)
	}
	hb, err := strconv.Atoi(field(184, 8))
	if err != nil {
		return nil, headerError(name, 184, "header size %q is not a number", field(184, 8))
	}
	h.HeaderBytes = hb
	h.Reserved = field(192, 44)
	if h.Records, err = strconv.ParseInt(field(236, 8), 10, 64); err != nil || h.Records < -1 {
		return nil, headerError(name, 236, "number of records %q is not a number", field(236, 8))
	}
	dur, ok := parseDecimalNs(field(244, 8))
	if !ok || dur < 0 {
		return nil, headerError(name, 244, "record duration %q is not a number of seconds", field(244, 8))
	}
	h.RecordDuration = dur
	ns, err := strconv.Atoi(field(252, 4))
	if err != nil || ns < 0 {
		return nil, headerError(name, 252, "number of signals %q is not a number", field(252, 4))
	}
	if ns > MaxSignals {
		return nil, headerError(name, 252, "%d signals, more than the %d this reader takes (edf.MaxSignals)", ns, MaxSignals)
	}
	if hb != 256*(ns+1) {
		return nil, headerError(name, 184, "header size %d does not match %d signals (want %d)", hb, ns, 256*(ns+1))
	}
	sig := make([]byte, 256*ns)
	if n, err := io.ReadFull(r, sig); err != nil {
		return nil, headerError(name, int64(256+n), "file ends inside the signal headers (%d of %d bytes)", n, len(sig))
	}
	for i, c := range sig {
		if c < 0x20 || c > 0x7e {
			return nil, headerError(name, int64(256+i), "byte 0x%02x is not printable ASCII", c)
		}
	}
	h.Signals = make([]SignalHeader, ns)
	off := 0
	next := func(width int) func(i int) (string, int64) {
		base := off
		off += width * ns
		return func(i int) (string, int64) {
			o := base + i*width
			return strings.TrimRight(string(sig[o:o+width]), " "), int64(256 + o)
		}
	}
	label, trans, dim := next(16), next(80), next(8)
	pmin, pmax, dmin, dmax := next(8), next(8), next(8), next(8)
	pre, spr, res := next(80), next(8), next(32)
	for i := range h.Signals {
		s := &h.Signals[i]
		s.Label, _ = label(i)
		s.Label = strings.TrimSpace(s.Label)
		s.Transducer, _ = trans(i)
		s.PhysDim, _ = dim(i)
		s.Prefilter, _ = pre(i)
		s.Reserved, _ = res(i)
		var err error
		for _, f := range []struct {
			get  func(int) (string, int64)
			dst  *float64
			what string
		}{{pmin, &s.PhysMin, "physical minimum"}, {pmax, &s.PhysMax, "physical maximum"}} {
			v, o := f.get(i)
			if *f.dst, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil || math.IsInf(*f.dst, 0) || math.IsNaN(*f.dst) {
				return nil, headerError(name, o, "signal %d (%s): %s %q is not a number", i+1, s.Label, f.what, v)
			}
		}
		for _, f := range []struct {
			get  func(int) (string, int64)
			dst  *int64
			what string
		}{{dmin, &s.DigMin, "digital minimum"}, {dmax, &s.DigMax, "digital maximum"}} {
			v, o := f.get(i)
			if *f.dst, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
				return nil, headerError(name, o, "signal %d (%s): %s %q is not an integer", i+1, s.Label, f.what, v)
			}
		}
		v, o := spr(i)
		if s.SamplesPerRecord, err = strconv.Atoi(strings.TrimSpace(v)); err != nil || s.SamplesPerRecord < 0 {
			return nil, headerError(name, o, "signal %d (%s): samples per record %q is not a number", i+1, s.Label, v)
		}
		if s.SamplesPerRecord > MaxRecordSamples {
			return nil, headerError(name, o, "signal %d (%s): %d samples per record, more than the %d this reader takes (edf.MaxRecordSamples)",
				i+1, s.Label, s.SamplesPerRecord, MaxRecordSamples)
		}
		if !s.IsAnnotations() && s.DigMax <= s.DigMin {
			_, o := dmin(i)
			return nil, headerError(name, o, "signal %d (%s): digital maximum %d is not above the minimum %d", i+1, s.Label, s.DigMax, s.DigMin)
		}
		if !s.IsAnnotations() && s.PhysMax == s.PhysMin {
			_, o := pmin(i)
			return nil, headerError(name, o, "signal %d (%s): physical minimum equals maximum", i+1, s.Label)
		}
	}
	return h, nil
}

var months = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}

// parseStart reads "dd.mm.yy" and "hh.mm.ss". Two-digit years 85–99 are
// 19yy and 00–84 are 20yy; an EDF+ recording field "Startdate
// dd-MMM-yyyy" gives the full year when it agrees on day and month.
func parseStart(date, clock, recording string) (time.Time, error) {
	d, ok1 := threeInts(date)
	c, ok2 := threeInts(clock)
	if !ok1 || d[1] < 1 || d[1] > 12 || d[0] < 1 || d[0] > 31 {
		return time.Time{}, fmt.Errorf("start date %q is not dd.mm.yy", date)
	}
	if !ok2 || c[0] > 23 || c[1] > 59 || c[2] > 60 {
		return time.Time{}, fmt.Errorf("start time %q is not hh.mm.ss", clock)
	}
	year := 2000 + d[2]
	if d[2] >= 85 {
		year = 1900 + d[2]
	}
	if f := strings.Fields(recording); len(f) >= 2 && f[0] == "Startdate" {
		p := strings.Split(f[1], "-")
		if len(p) == 3 {
			dd, e1 := strconv.Atoi(p[0])
			yy, e2 := strconv.Atoi(p[2])
			mi := -1
			for i, m := range months {
				if strings.EqualFold(p[1], m) {
					mi = i + 1
				}
			}
			if e1 == nil && e2 == nil && dd == d[0] && mi == d[1] && yy%100 == d[2] {
				year = yy
			}
		}
	}
	return time.Date(year, time.Month(d[1]), d[0], c[0], c[1], c[2], 0, time.UTC), nil
}

func threeInts(s string) ([3]int, bool) {
	var out [3]int
	p := strings.Split(s, ".")
	if len(p) != 3 {
		return out, false
	}
	for i, x := range p {
		if len(x) != 2 {
			return out, false
		}
		v, err := strconv.Atoi(x)
		if err != nil || v < 0 {
			return out, false
		}
		out[i] = v
	}
	return out, true
}

// parseDecimalNs reads a decimal number of seconds ("+12.5", "0.001",
// "1") as exact nanoseconds (digits beyond the ninth are dropped).
func parseDecimalNs(s string) (int64, bool) {
	b := []byte(strings.TrimSpace(s))
	return decimalNs(b)
}

func decimalNs(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	var whole, frac int64
	scale := int64(1)
	i, digits := 0, 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if whole > (math.MaxInt64/1_000_000_000-9)/10 {
			return 0, false
		}
		whole = whole*10 + int64(b[i]-'0')
		digits++
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			digits++
			if scale < 1e9 {
				frac = frac*10 + int64(b[i]-'0')
				scale *= 10
			}
		}
	}
	if i != len(b) || digits == 0 {
		return 0, false
	}
	v := whole*1e9 + frac*(1e9/scale)
	if neg {
		v = -v
	}
	return v, true
}
