// Package decode turns recorded files and device byte streams into
// pipeline Sources. Each format lives in its own sub-package and registers
// itself here from init, so adding one touches no central switch; Open
// picks a format from the file's content unless one is forced.
package decode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// Mapping overrides how a column is read: its kind, the unit its values
// are in (see Scale for the units understood) and, for raw converter
// counts, a linear conversion applied first. The value in the pipeline's
// canonical unit is
//
//	(raw·Scale + Offset) in Unit, converted to g or mV by Scale(Kind, Unit)
//
// with a zero Scale meaning 1 (plain unit conversion).
type Mapping struct {
	Kind pipeline.Kind
	Unit string
	// Scale and Offset turn a raw value into Unit: raw·Scale + Offset.
	Scale, Offset float64
	// Transfer names the maker's transfer function Scale and Offset come
	// from ("plux16"; see Transfers), empty for a plain or explicit one.
	Transfer string
}

// Linear returns a and b such that raw·a + b is the value in the kind's
// canonical unit, or the error of an unknown unit.
func (m Mapping) Linear() (a, b float64, err error) {
	u, err := Scale(m.Kind, m.Unit)
	if err != nil {
		return 0, 0, err
	}
	s := m.Scale
	if s == 0 {
		s = 1
	}
	return s * u, m.Offset * u, nil
}

// String formats m as ParseMapping reads it back.
func (m Mapping) String() string {
	s := m.Kind.String()
	switch {
	case m.Transfer != "":
		return s + ":" + m.Transfer
	case m.Unit != "":
		s += ":" + m.Unit
	}
	if m.Scale != 0 && m.Scale != 1 {
		s += ",scale=" + strconv.FormatFloat(m.Scale, 'g', -1, 64)
	}
	if m.Offset != 0 {
		s += ",offset=" + strconv.FormatFloat(m.Offset, 'g', -1, 64)
	}
	return s
}

// Transfer is a maker's published conversion of raw converter counts of
// an n-bit channel: value in Unit = ADC·Scale(n) + Offset(n).
type Transfer struct {
	// Prefix is the name before the bit count: "plux" in "plux16".
	Prefix string
	Kind   pipeline.Kind
	Unit   string
	// Formula documents the conversion, n being the resolution in bits.
	Formula string
	// Linear returns Scale and Offset for n bits.
	Linear func(bits int) (scale, offset float64)
}

// Transfers are the transfer functions --map accepts as a unit, followed
// by the channel's resolution in bits (1 to 24): "emg:plux16".
var Transfers = []Transfer{
	{Prefix: "plux", Kind: pipeline.KindEMG, Unit: "mV", Formula: "mV = ADC·3.0/2^n − 1.5 (PLUX EMG sensor: 3 V supply, gain 1000)",
		Linear: func(n int) (float64, float64) { return 3.0 / math.Exp2(float64(n)), -1.5 }},
	{Prefix: "bitalino", Kind: pipeline.KindEMG, Unit: "mV", Formula: "mV = (ADC/2^n − 0.5)·3.3/1009·1000 (BITalino (r)evolution EMG: 3.3 V, gain 1009)",
		Linear: func(n int) (float64, float64) {
			k := 3.3 / 1009 * 1000
			return k / math.Exp2(float64(n)), -0.5 * k
		}},
}

// MaxTransferBits is the widest converter a transfer function accepts.
const MaxTransferBits = 24

// transfer recognises "plux16" and the like; ok is false when name is
// not a transfer function's, err set when it is one with a bad width.
func transfer(name string) (Transfer, int, bool, error) {
	low := strings.ToLower(name)
	for _, t := range Transfers {
		rest, found := strings.CutPrefix(low, t.Prefix)
		if !found || rest == "" || strings.Trim(rest, "0123456789") != "" {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || n > MaxTransferBits {
			return t, 0, true, fmt.Errorf("decode: transfer function %q: resolution %s bits is not 1..%d", name, rest, MaxTransferBits)
		}
		return t, n, true, nil
	}
	return Transfer{}, 0, false, nil
}

// ParseMapping parses a --map value:
//
//	KIND[:UNIT][,scale=S][,offset=O]   e.g. "emg:uV", "emg:uV,scale=10"
//	KIND:TRANSFERn                     e.g. "emg:plux16", "emg:bitalino10"
//
// KIND is acc, emg or other; UNIT one Scale understands (the kind's
// canonical unit when absent). scale and offset give the linear
// conversion of a raw value into UNIT (raw·S + O); S may be written as a
// fraction (3/4096) and must not be 0. A transfer function (Transfers)
// sets unit, scale and offset from the maker's formula for an n-bit
// converter and takes no scale or offset of its own.
func ParseMapping(s string) (Mapping, error) {
	head, opts, _ := strings.Cut(s, ",")
	k, u, _ := strings.Cut(head, ":")
	kind, err := pipeline.ParseKind(strings.ToLower(strings.TrimSpace(k)))
	if err != nil {
		return Mapping{}, err
	}
	m := Mapping{Kind: kind, Unit: strings.TrimSpace(u)}
	t, bits, isTransfer, err := transfer(m.Unit)
	switch {
	case err != nil:
		return Mapping{}, err
	case isTransfer && t.Kind != kind:
		return Mapping{}, fmt.Errorf("decode: transfer function %q converts %s, not %s", m.Unit, t.Kind, kind)
	case isTransfer && opts != "":
		return Mapping{}, fmt.Errorf("decode: %q: a transfer function sets scale and offset itself; give either %s or a unit with scale=/offset=", s, m.Unit)
	case isTransfer:
		m.Transfer = strings.ToLower(m.Unit)
		m.Unit = t.Unit
		m.Scale, m.Offset = t.Linear(bits)
		return m, nil
	}
	if m.Unit == "" {
		m.Unit = CanonicalUnit(kind)
	}
	if _, err := Scale(kind, m.Unit); err != nil {
		return Mapping{}, err
	}
	if opts != "" {
		if err := m.parseLinear(opts); err != nil {
			return Mapping{}, fmt.Errorf("decode: %q: %w", s, err)
		}
	}
	return m, nil
}

// parseLinear reads "scale=S,offset=O" (either, any order).
func (m *Mapping) parseLinear(opts string) error {
	seen := map[string]bool{}
	for _, kv := range strings.Split(opts, ",") {
		key, val, ok := strings.Cut(kv, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok || (key != "scale" && key != "offset") {
			return fmt.Errorf("want scale=NUMBER or offset=NUMBER, got %q", strings.TrimSpace(kv))
		}
		if seen[key] {
			return fmt.Errorf("%s given twice", key)
		}
		seen[key] = true
		v, err := parseRatio(strings.TrimSpace(val))
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if key == "scale" {
			if v == 0 {
				return errors.New("scale: must not be 0")
			}
			m.Scale = v
		} else {
			m.Offset = v
		}
	}
	return nil
}

// parseRatio parses a finite number, or a fraction of two ("3/4096").
func parseRatio(s string) (float64, error) {
	num, den, frac := strings.Cut(s, "/")
	a, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(a) || math.IsInf(a, 0) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	if !frac {
		return a, nil
	}
	b, err := strconv.ParseFloat(strings.TrimSpace(den), 64)
	if err != nil || b == 0 || math.IsNaN(b) || math.IsInf(b, 0) {
		return 0, fmt.Errorf("%q: the denominator is not a finite non-zero number", s)
	}
	return a / b, nil
}

// Options are the settings a decoder may need beyond the bytes.
type Options struct {
	// Name is the file or port name used in error messages and Meta.File.
	Name string
	// Rate is the sample rate in Hz for formats without a time column
	// (required there when the file does not state it), 0 otherwise.
	Rate float64
	// Start is the recording's start for relative or missing times.
	Start time.Time
	// Map overrides columns by name (case-insensitive keys, lower-cased).
	// A key ending in "*" is a pattern matching every column whose name
	// starts with what comes before it (formats that read Columns honour
	// patterns; an exact key wins over a pattern).
	Map map[string]Mapping
	// Columns names the columns of a delimited text file that has no
	// header row, in order; its first line is then data. Only formats
	// whose Format.Columns is set read it (csv).
	Columns []string
	// Strict makes the first malformed record fatal instead of skipped.
	Strict bool
}

// Limits every decoder applies, so that a hostile or corrupt file cannot
// make it allocate without bound: a header is rejected, with an error
// naming the file and line or byte offset, when it declares more than
// these. Each format documents its own further limits (line length,
// header size, record size) in its package doc.
const (
	// MaxColumns bounds the columns of a text recording's header or of
	// one row (CSV, OpenSignals, OpenBCI, ActiLife, ascii).
	MaxColumns = 1024
	// MaxChannels bounds the channels a decoder delivers (columns that
	// are analysed, EDF data signals): each one costs a value in every
	// frame and a detector downstream.
	MaxChannels = 256
)

// Format is one registered decoder.
type Format struct {
	// Name is what --format accepts, e.g. "csv", "edf".
	Name string
	// Sniff scores how well head (up to the first 8 KiB) and the file name
	// fit this format: 0 means no; the highest score wins.
	Sniff func(head []byte, name string) int
	// Open builds a Source reading r. It reads the header and returns a
	// clear error when the input cannot be this format.
	Open func(r io.Reader, opts Options) (pipeline.Source, error)
	// Columns reports that Open reads Options.Columns; OpenFile refuses
	// Columns for other formats rather than ignore them.
	Columns bool
}

var (
	mu      sync.RWMutex
	formats = map[string]Format{}
)

// Register adds a format. It panics on a duplicate name: that is a
// programming error.
func Register(f Format) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := formats[f.Name]; dup {
		panic("decode: format registered twice: " + f.Name)
	}
	formats[f.Name] = f
}

// Formats lists the registered format names, sorted.
func Formats() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ErrUnknownFormat is returned when no format fits a file or the name
// given to Open is not registered.
var ErrUnknownFormat = errors.New("decode: unknown format")

// SniffSize is how many leading bytes Detect looks at.
const SniffSize = 8192

// Detect picks the format for head and name; it returns ErrUnknownFormat
// when none scores above zero.
func Detect(head []byte, name string) (Format, error) {
	mu.RLock()
	defer mu.RUnlock()
	var best Format
	bestScore := 0
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := formats[n]
		if s := f.Sniff(head, name); s > bestScore {
			best, bestScore = f, s
		}
	}
	if bestScore == 0 {
		return Format{}, fmt.Errorf("%s: %w (known: %s)", name, ErrUnknownFormat, strings.Join(names, ", "))
	}
	return best, nil
}

// Lookup returns the format registered under name.
func Lookup(name string) (Format, error) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := formats[name]
	if !ok {
		return Format{}, fmt.Errorf("%q: %w", name, ErrUnknownFormat)
	}
	return f, nil
}

// File is an open recording: its Source and the file to close.
type File struct {
	pipeline.Source
	Format string
	f      *os.File
	read   *countingReader
	size   int64
}

// Close closes the underlying file.
func (f *File) Close() error { return f.f.Close() }

// Position returns how many bytes the decoder has read from the file so
// far (a buffer ahead of the samples delivered) and the file's size (0
// when it has none, e.g. a pipe). It may be called from any goroutine,
// for a progress display.
func (f *File) Position() (read, size int64) { return f.read.n.Load(), f.size }

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// OpenFile opens path and decodes it with the named format, or with the
// detected one when format is empty. opts.Name defaults to path.
func OpenFile(path, format string, opts Options) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if opts.Name == "" {
		opts.Name = path
	}
	cr := &countingReader{r: fh}
	var size int64
	if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	br := bufio.NewReaderSize(cr, 64<<10)
	head, err := br.Peek(SniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		fh.Close()
		return nil, fmt.Errorf("decode: %s: %w", path, err)
	}
	if len(head) == 0 {
		fh.Close()
		return nil, fmt.Errorf("decode: %s: file is empty", path)
	}
	var f Format
	if format != "" {
		f, err = Lookup(format)
	} else {
		f, err = Detect(head, path)
		if err != nil && isText(head) {
			// Text that no format claims: let the generic delimited-text
			// decoder say what is wrong with its header.
			if csv, lerr := Lookup("csv"); lerr == nil {
				f, err = csv, nil
			}
		}
	}
	if err == nil && len(opts.Columns) > 0 && !f.Columns {
		err = fmt.Errorf("decode: %s: column names (--columns) are for delimited text without a header row, which format %s is not", path, f.Name)
	}
	if err != nil {
		fh.Close()
		return nil, err
	}
	src, err := f.Open(br, opts)
	if err != nil {
		fh.Close()
		return nil, err
	}
	return &File{Source: src, Format: f.Name, f: fh, read: cr, size: size}, nil
}

// isText reports whether head looks like text: no NUL bytes and few
// control characters.
func isText(head []byte) bool {
	ctl := 0
	for _, c := range head {
		switch {
		case c == 0:
			return false
		case c < 32 && c != '\n' && c != '\r' && c != '\t':
			ctl++
		}
	}
	return ctl*100 < len(head)+1
}

// CanonicalUnit is the unit values of kind carry inside the pipeline.
func CanonicalUnit(k pipeline.Kind) string {
	switch k {
	case pipeline.KindAcc:
		return "g"
	case pipeline.KindEMG:
		return "mV"
	}
	return ""
}

// Scale returns the factor that converts a value of kind in unit to the
// canonical unit: acceleration in g (accepts g, mg, m/s2, m/s^2) and EMG
// in mV (accepts V, mV, uV, µV). Other kinds keep their unit (factor 1).
func Scale(k pipeline.Kind, unit string) (float64, error) {
	u := strings.ToLower(strings.TrimSpace(unit))
	switch k {
	case pipeline.KindAcc:
		switch u {
		case "g", "":
			return 1, nil
		case "mg":
			return 1e-3, nil
		case "m/s2", "m/s^2", "ms2", "m/s²":
			return 1 / 9.80665, nil
		}
		return 0, fmt.Errorf("decode: unknown accelerometer unit %q (want g, mg or m/s2)", unit)
	case pipeline.KindEMG:
		switch u {
		case "mv", "":
			return 1, nil
		case "v":
			return 1e3, nil
		case "uv", "µv", "μv":
			return 1e-3, nil
		}
		return 0, fmt.Errorf("decode: unknown EMG unit %q (want V, mV or uV)", unit)
	}
	return 1, nil
}
