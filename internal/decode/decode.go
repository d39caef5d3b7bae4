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
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// Mapping overrides how a column is read: its kind and the unit its raw
// values are in (see Scale for the units understood).
type Mapping struct {
	Kind pipeline.Kind
	Unit string
}

// ParseMapping parses "KIND:UNIT" as given to --map, e.g. "emg:uV".
func ParseMapping(s string) (Mapping, error) {
	k, u, _ := strings.Cut(s, ":")
	kind, err := pipeline.ParseKind(strings.ToLower(strings.TrimSpace(k)))
	if err != nil {
		return Mapping{}, err
	}
	m := Mapping{Kind: kind, Unit: strings.TrimSpace(u)}
	if m.Unit == "" {
		m.Unit = CanonicalUnit(kind)
	}
	if _, err := Scale(kind, m.Unit); err != nil {
		return Mapping{}, err
	}
	return m, nil
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
	Map map[string]Mapping
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
