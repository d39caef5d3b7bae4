// Package openbci decodes recordings written by the OpenBCI GUI.
//
// Three layouts are read, told apart by the header:
//
//   - v6 (GUI 5.2 and later): "%OpenBCI Raw EXG Data", "%Number of
//     channels = 8", "%Sample Rate = 250 Hz", "%Board = ...", then a column
//     header ("Sample Index, EXG Channel 0, ..., Accel Channel 0, ...,
//     Timestamp, ...") and rows separated by ", ".
//   - v5: the same '%' lines (first line "%OpenBCI Raw EEG Data"), no
//     column header; rows are "index, N EXG values, 3 accel values, other
//     columns..., Timestamp, HH:MM:SS.mmm". A first row of zeros that the
//     GUI wrote before any sample is dropped silently.
//   - legacy (GUI 3/4): six '%' lines ("%Sample Rate = 200.0 Hz", "%First
//     Column = SampleIndex", ...), no column header; rows are
//     "index, N EXG values, 3 accel values, HH:MM:SS.mmm", CRLF or LF.
//     N is the row's field count minus five.
//
// Channels: every EXG column becomes a KindEMG channel in mV (the file has
// µV), named as in the file ("EXG Channel 0", ...; legacy files get the
// same names). The OpenBCI boards record EEG electrodes, but twitchd uses
// them for surface EMG (the jaw-clench recordings are EMG on EEG
// electrodes). The three accelerometer columns become KindAcc channels in
// g ("Accel Channel 0..2", axes x, y, z, group "accel") at 25 Hz.
//
// The accelerometer: the board samples it at 25 Hz and the GUI repeats the
// last value on every row in between (about ten rows at 250 Hz). Repeating
// it would hand the detectors a staircase at the EXG rate with fake flat
// steps, so a value is delivered only on the row where it arrives: a row
// whose triple differs from the row before, or, for a still device whose
// successive readings happen to be equal, the row one and a half
// accelerometer periods (rate/25 rows, 15 at 250 Hz) after the last
// delivered one: readings arrive every 10 or 11 rows at 250 Hz, so waiting
// half a period longer never doubles a reading, and for a still device
// the value is the same whichever row carries it. Other rows carry NaN
// (pipeline.NoSample) in the accelerometer channels. A triple of exact
// zeros means no accelerometer data (the Ganglion's accelerometer is off by
// default) and is never delivered.
//
// Times are regular: the first row's time plus k/rate, where k counts
// samples including those lost (see below). The first row's time is its
// Timestamp column (Unix milliseconds in the GUI 4/5 files, Unix seconds
// with a fraction in later ones; told apart by size). The Timestamp column
// itself is the host's clock when the USB packet arrived: it jitters by
// several ms and repeats values, so it is used only to re-anchor after a
// pause: when it runs more than one second ahead of the regular clock,
// times jump forward to it. Legacy files have only the clock of day: their
// start is Options.Start if it has a time of day, else Options.Start's
// date (1970-01-01 when Start is zero) at the first row's clock of day,
// and the clock of day re-anchors forward gaps the same way.
//
// Lost samples: the sample index counts 0..255 on the Cyton and 0..200 on
// the Ganglion (legacy files at 200 Hz), wrapping. A jump of the index
// counts the samples skipped as lost (SourceStats.Lost) and advances the
// time by them. An index beyond the expected range turns counting off.
//
// Limits: at most MaxHeaderLines (64) '%' lines, lines up to 64 KiB,
// MaxColumns (1024) columns in the v6 column header and MaxChannels (256)
// EXG channels; a header past them is refused with an error naming the
// file and line.
package openbci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/decode/textline"
	"github.com/twitchd/twitchd/internal/decode/textnum"
	"github.com/twitchd/twitchd/pipeline"
)

// Size limits: a header past them is refused with an error naming the
// file and line. Lines, '%' header lines included, may be up to
// textline.BufferSize (64 KiB) long; a longer header line is an error
// and a longer data line is malformed.
const (
	// MaxHeaderLines bounds the '%' lines before the data.
	MaxHeaderLines = 64
	// MaxColumns bounds the fields of the v6 column header.
	MaxColumns = decode.MaxColumns
	// MaxChannels bounds the EXG channels ("%Number of channels", EXG
	// Channel columns, or a legacy row's fields minus five).
	MaxChannels = decode.MaxChannels
)

// FormatName is the name the decoder registers under.
const FormatName = "openbci"

// AccelRateHz is the accelerometer's sample rate on Cyton and Ganglion.
const AccelRateHz = 25

// Layout names the three file layouts.
type Layout int

// Layouts.
const (
	LayoutV6     Layout = iota // '%' header, then a column header line
	LayoutV5                   // '%' header with %Board, no column header, Timestamp column
	LayoutLegacy               // six '%' lines, clock of day as the last column
)

// String names the layout.
func (l Layout) String() string {
	switch l {
	case LayoutV6:
		return "v6"
	case LayoutV5:
		return "v5"
	}
	return "legacy"
}

func init() {
	decode.Register(decode.Format{Name: FormatName, Sniff: Sniff, Open: open})
}

func open(r io.Reader, opts decode.Options) (pipeline.Source, error) { return New(r, opts) }

// Sniff scores head: 50 when it starts with "%OpenBCI Raw EXG Data" or
// "%OpenBCI Raw EEG Data".
func Sniff(head []byte, name string) int {
	if textline.HasBanner(head, "%OpenBCI Raw EXG Data") || textline.HasBanner(head, "%OpenBCI Raw EEG Data") {
		return 50
	}
	if textline.HasBanner(head, "%OpenBCI Raw") {
		return 30
	}
	return 0
}

// Header holds what the '%' lines said.
type Header struct {
	Layout   Layout
	Channels int     // EXG channels
	RateHz   float64 // EXG sample rate
	Board    string  // e.g. "OpenBCI_GUI$BoardCytonSerial"; empty in legacy files
}

// Decoder is a pipeline.Source reading an OpenBCI GUI recording.
type Decoder struct {
	in   *textline.Reader // lines, line numbers, skipped-line counts
	name string
	hdr  Header
	meta pipeline.Meta

	// column positions
	idxCol, tsCol, ncol int // tsCol: Timestamp (v5/v6) or clock of day (legacy)
	exgCol              []int
	accCol              [3]int

	// sample clock
	start    time.Time // Options.Start
	anchored bool
	t0       int64 // ns of sample k = 0
	k        int64 // samples since t0, including lost ones
	clock0   float64
	lastT    int64

	// sample index
	mod     int // wrap modulus; 0 = no loss counting
	prevIdx int
	haveIdx bool

	// accelerometer
	accPeriod int
	accLast   [3]float64
	accSince  int
	accSeen   bool

	fields [][]byte
	vals   []float64
}

// New reads the header of an OpenBCI GUI file from r. opts.Name names the
// file in errors; opts.Start dates legacy files (see the package doc);
// opts.Rate overrides a missing "%Sample Rate" line.
func New(r io.Reader, opts decode.Options) (*Decoder, error) {
	name := opts.Name
	if name == "" {
		name = "openbci"
	}
	d := &Decoder{in: textline.NewReader(r, name, opts.Strict), name: name, start: opts.Start}
	if err := d.readHeader(opts); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Decoder) readHeader(opts decode.Options) error {
	legacy := false
	for {
		p, err := d.in.Peek(1)
		if err != nil || p[0] != '%' {
			if d.in.Line() == 0 {
				return d.in.Errorf("not an OpenBCI GUI file: it does not start with %%OpenBCI Raw")
			}
			break
		}
		b, err := d.in.Next()
		if err != nil {
			return d.in.HeaderError("header", err)
		}
		s := strings.TrimSpace(strings.TrimPrefix(string(b), "%"))
		if d.in.Line() == 1 {
			s = strings.TrimPrefix(s, "\ufeff")
			if !strings.HasPrefix(s, "OpenBCI Raw") {
				return d.in.Errorf("not an OpenBCI GUI file: first line is %q", truncate(string(b)))
			}
			continue
		}
		key, val, _ := strings.Cut(s, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "Number of channels":
			n, err := strconv.Atoi(val)
			if err != nil || n <= 0 {
				return d.in.Errorf("bad number of channels %q", val)
			}
			if n > MaxChannels {
				return d.in.Errorf("%d channels, more than the %d this decoder reads (openbci.MaxChannels)", n, MaxChannels)
			}
			d.hdr.Channels = n
		case "Sample Rate":
			v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(val, "Hz")), 64)
			if err != nil || !(v > 0 && v < 1e6) {
				return d.in.Errorf("bad sample rate %q", val)
			}
			d.hdr.RateHz = v
		case "Board":
			d.hdr.Board = val
		case "First Column":
			legacy = true
		}
		if d.in.Line() > MaxHeaderLines {
			return d.in.Errorf("more than %d header lines (openbci.MaxHeaderLines)", MaxHeaderLines)
		}
	}
	if d.hdr.RateHz == 0 {
		if opts.Rate <= 0 {
			return d.in.Errorf("header has no %%Sample Rate line and no rate was given")
		}
		d.hdr.RateHz = opts.Rate
	}
	p, _ := d.in.Peek(12)
	switch {
	case bytes.HasPrefix(p, []byte("Sample Index")):
		d.hdr.Layout = LayoutV6
		b, err := d.in.Next()
		if err != nil {
			return d.in.HeaderError("column header", err)
		}
		if err := d.columnsV6(string(b)); err != nil {
			return err
		}
	case d.hdr.Board != "" && !legacy:
		d.hdr.Layout = LayoutV5
		if d.hdr.Channels == 0 {
			d.hdr.Channels = 8
		}
		d.idxCol, d.ncol = 0, 1+d.hdr.Channels+3+2
		d.exgCol = seq(1, d.hdr.Channels)
		d.accCol = [3]int{1 + d.hdr.Channels, 2 + d.hdr.Channels, 3 + d.hdr.Channels}
		d.tsCol = -2 // second to last
	default:
		d.hdr.Layout = LayoutLegacy
		if err := d.columnsLegacy(); err != nil {
			return err
		}
	}
	d.mod = 256
	if strings.Contains(strings.ToLower(d.hdr.Board), "ganglion") || (d.hdr.Layout == LayoutLegacy && d.hdr.RateHz == 200) {
		d.mod = 201
	}
	d.accPeriod = max(1, int(math.Round(d.hdr.RateHz/AccelRateHz)))
	d.fields = make([][]byte, 0, max(256, d.ncol+2))
	d.vals = make([]float64, len(d.exgCol))
	d.buildMeta()
	return nil
}

func seq(from, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = from + i
	}
	return s
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// columnsV6 finds the columns by name.
func (d *Decoder) columnsV6(h string) error {
	if n := strings.Count(h, ",") + 1; n > MaxColumns {
		return d.in.Errorf("column header has %d columns, more than the %d this decoder reads (openbci.MaxColumns)", n, MaxColumns)
	}
	cols := strings.Split(h, ",")
	d.idxCol, d.tsCol = -1, -1
	d.accCol = [3]int{-1, -1, -1}
	for i, c := range cols {
		c = strings.TrimSpace(c)
		var n int
		switch {
		case c == "Sample Index":
			d.idxCol = i
		case c == "Timestamp":
			d.tsCol = i
		case strings.HasPrefix(c, "EXG Channel ") || strings.HasPrefix(c, "EEG Channel "):
			d.exgCol = append(d.exgCol, i)
		case strings.HasPrefix(c, "Accel Channel "):
			if _, err := fmt.Sscanf(c, "Accel Channel %d", &n); err == nil && n >= 0 && n < 3 {
				d.accCol[n] = i
			}
		}
	}
	d.ncol = len(cols)
	if len(d.exgCol) == 0 {
		return d.in.Errorf("column header has no EXG Channel columns")
	}
	if len(d.exgCol) > MaxChannels {
		return d.in.Errorf("column header has %d EXG Channel columns, more than the %d this decoder reads (openbci.MaxChannels)", len(d.exgCol), MaxChannels)
	}
	if d.tsCol < 0 {
		return d.in.Errorf("column header has no Timestamp column")
	}
	if d.idxCol < 0 {
		return d.in.Errorf("column header has no Sample Index column")
	}
	if d.accCol[0] < 0 || d.accCol[1] < 0 || d.accCol[2] < 0 {
		d.accCol = [3]int{-1, -1, -1}
	}
	d.hdr.Channels = len(d.exgCol)
	return nil
}

// columnsLegacy takes the channel count from the first row.
func (d *Decoder) columnsLegacy() error {
	p, err := d.in.Peek(4096)
	if len(p) == 0 {
		if err == nil || errors.Is(err, io.EOF) {
			return d.in.Errorf("no data rows after the header")
		}
		return fmt.Errorf("%s: %w", d.name, err)
	}
	if i := bytes.IndexByte(p, '\n'); i >= 0 {
		p = p[:i]
	}
	n := bytes.Count(p, []byte(",")) + 1
	if n < 6 {
		return &pipeline.LineError{File: d.name, Line: d.in.Line() + 1, Offset: -1,
			Reason: fmt.Sprintf("legacy row has %d fields, want index, channels, 3 accelerometer values and a time", n)}
	}
	if n-5 > MaxChannels {
		return &pipeline.LineError{File: d.name, Line: d.in.Line() + 1, Offset: -1,
			Reason: fmt.Sprintf("legacy row has %d channels, more than the %d this decoder reads (openbci.MaxChannels)", n-5, MaxChannels)}
	}
	d.hdr.Channels = n - 5
	d.idxCol, d.ncol = 0, n
	d.exgCol = seq(1, d.hdr.Channels)
	d.accCol = [3]int{n - 4, n - 3, n - 2}
	d.tsCol = n - 1
	return nil
}

func (d *Decoder) buildMeta() {
	var ch []pipeline.Channel
	for i := range d.exgCol {
		ch = append(ch, pipeline.Channel{Name: fmt.Sprintf("EXG Channel %d", i), Kind: pipeline.KindEMG,
			Unit: "mV", SourceUnit: "uV", RateHz: d.hdr.RateHz})
	}
	if d.accCol[0] >= 0 {
		for i := range 3 {
			ch = append(ch, pipeline.Channel{Name: fmt.Sprintf("Accel Channel %d", i), Kind: pipeline.KindAcc,
				Unit: "g", SourceUnit: "g", RateHz: AccelRateHz, Axis: "xyz"[i], Group: "accel"})
		}
	}
	d.meta = pipeline.Meta{File: d.name, Format: FormatName, Channels: ch}
}

// Header returns what the header said.
func (d *Decoder) Header() Header { return d.hdr }

// Meta implements pipeline.Source.
func (d *Decoder) Meta() pipeline.Meta { return d.meta }

// Stats implements pipeline.Source.
func (d *Decoder) Stats() pipeline.SourceStats { return d.in.Stats }

// Next implements pipeline.Source; lines starting with % are comments.
func (d *Decoder) Next(ctx context.Context, b *pipeline.Batch) error {
	return d.in.Fill(ctx, b, '%', d.row)
}

func (d *Decoder) split(line []byte) [][]byte {
	f := d.fields[:0]
	for {
		i := bytes.IndexByte(line, ',')
		if i < 0 || len(f) == cap(f)-1 {
			f = append(f, trim(line))
			break
		}
		f = append(f, trim(line[:i]))
		line = line[i+1:]
	}
	d.fields = f[:0]
	return f
}

// trim drops leading and trailing blanks (space, tab, CR).
func trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// row decodes one data row; it returns why the row was rejected, or "".
func (d *Decoder) row(b *pipeline.Batch, line []byte) string {
	f := d.split(line)
	idx, idxOK := parseInt(f[d.idxCol])
	if len(f) != d.ncol {
		if d.hdr.Layout != LayoutV5 || len(f) < d.ncol {
			d.slot(idx, idxOK)
			return fmt.Sprintf("%d fields, want %d", len(f), d.ncol)
		}
	}
	tsCol := d.tsCol
	if tsCol < 0 {
		tsCol = len(f) + tsCol
	}
	if d.hdr.Layout == LayoutV5 && d.in.Stats.Frames == 0 && !d.anchored && allZero(f) {
		return "" // the GUI's placeholder row before the first sample
	}
	if !idxOK {
		return fmt.Sprintf("sample index %q is not an integer", f[d.idxCol])
	}
	var ts float64 // ns since the epoch (v5/v6) or seconds of day (legacy)
	var tsNs int64 // ns since the epoch, exact (v5/v6)
	if d.hdr.Layout == LayoutLegacy {
		c, ok := parseClock(f[tsCol])
		if !ok {
			d.slot(idx, true)
			return fmt.Sprintf("time %q is not HH:MM:SS.mmm", f[tsCol])
		}
		ts = c
	} else {
		ns, ok := parseStamp(f[tsCol])
		if !ok {
			d.slot(idx, true)
			return fmt.Sprintf("timestamp %q is not a positive number", f[tsCol])
		}
		ts = float64(ns)
		tsNs = ns
	}
	for i, c := range d.exgCol {
		v, ok := textnum.ParseFinite(f[c])
		if !ok {
			d.slot(idx, true)
			return fmt.Sprintf("column %d: %q is not a number", c+1, f[c])
		}
		d.vals[i] = v * 1e-3
	}
	var acc [3]float64
	if d.accCol[0] >= 0 {
		for i, c := range d.accCol {
			v, ok := textnum.ParseFinite(f[c])
			if !ok {
				d.slot(idx, true)
				return fmt.Sprintf("column %d: %q is not a number", c+1, f[c])
			}
			acc[i] = v
		}
	}
	t := d.clock(idx, ts, tsNs)
	out := b.Append(t)
	copy(out, d.vals)
	if d.accCol[0] >= 0 {
		a := out[len(d.vals):]
		if d.accNew(acc) {
			copy(a, acc[:])
		} else {
			a[0], a[1], a[2] = pipeline.NoSample, pipeline.NoSample, pipeline.NoSample
		}
	}
	d.in.Stats.Frames++
	return ""
}

func allZero(f [][]byte) bool {
	for _, x := range f {
		v, ok := textnum.ParseFinite(x)
		if !ok || v != 0 {
			return false
		}
	}
	return true
}

// slot accounts for a bad row that still held a sample slot.
func (d *Decoder) slot(idx int, ok bool) {
	if d.anchored && ok {
		d.advance(idx)
	}
}

// advance moves the sample clock to sample index idx, counting lost
// samples.
func (d *Decoder) advance(idx int) {
	step := 1
	if d.haveIdx && d.mod > 0 {
		if idx >= d.mod || idx < 0 {
			d.mod = 0
		} else if idx == d.prevIdx {
			step = 0
		} else {
			step = (idx - d.prevIdx + d.mod) % d.mod
			if lost := step - 1; lost > 0 {
				d.in.Stats.Lost += int64(lost)
			}
		}
	}
	d.prevIdx, d.haveIdx = idx, true
	d.k += int64(step)
}

// clock returns the time of the row with sample index idx and file time
// ts (see the package doc).
func (d *Decoder) clock(idx int, ts float64, tsNs int64) int64 {
	if !d.anchored {
		d.anchored = true
		d.prevIdx, d.haveIdx = idx, true
		d.k = 0
		if d.hdr.Layout == LayoutLegacy {
			d.clock0 = ts
			d.t0 = d.legacyStart(ts)
		} else {
			d.t0 = tsNs
		}
		d.lastT = d.t0
		return d.t0
	}
	d.advance(idx)
	t := d.t0 + int64(math.Round(float64(d.k)*1e9/d.hdr.RateHz))
	var ahead float64 // how far the file's clock runs ahead, ns
	if d.hdr.Layout == LayoutLegacy {
		exp := math.Mod(d.clock0+float64(t-d.t0)/1e9, 86400)
		diff := ts - exp
		if diff < -43200 {
			diff += 86400
		} else if diff >= 43200 {
			diff -= 86400
		}
		ahead = diff * 1e9
	} else {
		ahead = ts - float64(t)
	}
	if ahead > 1e9 {
		// A pause in the recording: jump forward to the file's clock.
		if d.hdr.Layout == LayoutLegacy {
			t += int64(math.Round(ahead))
		} else {
			t = tsNs
		}
		d.t0, d.k = t, 0
		if d.hdr.Layout == LayoutLegacy {
			d.clock0 = ts
		}
	}
	if t < d.lastT {
		t = d.lastT
	}
	d.lastT = t
	return t
}

func (d *Decoder) legacyStart(clock float64) int64 {
	st := d.start
	if st.IsZero() {
		slog.Warn("openbci: legacy file has only the clock of day; dating it 1970-01-01 (set a start time to date it)", "file", d.name)
		return int64(math.Round(clock * 1e9))
	}
	h, m, s := st.Clock()
	if h != 0 || m != 0 || s != 0 || st.Nanosecond() != 0 {
		return st.UnixNano()
	}
	return st.UnixNano() + int64(math.Round(clock*1e9))
}

// accNew reports whether acc is a new accelerometer reading.
func (d *Decoder) accNew(acc [3]float64) bool {
	d.accSince++
	zero := acc == [3]float64{}
	changed := !d.accSeen || acc != d.accLast
	d.accLast, d.accSeen = acc, true
	if zero {
		return false
	}
	if changed || d.accSince >= d.accPeriod+d.accPeriod/2 {
		d.accSince = 0
		return true
	}
	return false
}

func parseInt(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	// "12.0" appears in some files: accept an integral float.
	n := 0
	for i, c := range b {
		if c == '.' {
			for _, z := range b[i+1:] {
				if z != '0' {
					return 0, false
				}
			}
			return n, i > 0
		}
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseClock reads "HH:MM:SS.mmm" as seconds since midnight.
func parseClock(b []byte) (float64, bool) {
	if len(b) < 8 || b[2] != ':' || b[5] != ':' {
		return 0, false
	}
	h, ok1 := parseInt(b[0:2])
	m, ok2 := parseInt(b[3:5])
	s, ok3 := textnum.ParseFinite(b[6:])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || s < 0 || s >= 61 {
		return 0, false
	}
	return float64(h*3600+m*60) + s, true
}

// parseStamp reads a Unix time in seconds or milliseconds (values above
// 1e11, i.e. after 1973 in ms), with an optional fraction, as exact
// nanoseconds.
func parseStamp(b []byte) (int64, bool) {
	var whole, frac, scale int64 = 0, 0, 1
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if i >= 15 {
			return 0, false
		}
		whole = whole*10 + int64(b[i]-'0')
	}
	if i == 0 {
		return 0, false
	}
	if i < len(b) {
		if b[i] != '.' {
			return 0, false
		}
		for _, c := range b[i+1:] {
			if c < '0' || c > '9' {
				return 0, false
			}
			if scale < 1e9 {
				frac = frac*10 + int64(c-'0')
				scale *= 10
			}
		}
	}
	if whole == 0 && frac == 0 {
		return 0, false
	}
	unit := int64(1e9)
	if whole > 1e11 {
		unit = 1e6
	}
	return whole*unit + frac*unit/scale, true
}
