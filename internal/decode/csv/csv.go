// Package csv decodes delimited text recordings: a header row naming the
// columns (or names given in Options.Columns for a file without one),
// then one row per sampling instant. It registers itself with package
// decode as format "csv".
//
// # Layout
//
// Lines starting with # or % are comments, anywhere in the file (a UTF-8
// byte order mark before the first line is dropped); blank lines are
// ignored; lines end in LF or CRLF. The separator is a comma, semicolon,
// tab or space, chosen from the header line: the one that splits it into
// the most recognised columns; on a tie a comma, semicolon or tab that
// splits the line at all beats space (names such as "Sample Index" hold
// spaces), then the most fields win. With space, a run of spaces is one
// separator. Spaces and tabs around a field, and
// one pair of double quotes around it, are dropped; quoted separators are
// not supported. A trailing separator is fine. When the separator is not
// a comma, a decimal comma is accepted (0,25 for 0.25, as spreadsheets in
// many locales write it).
//
// # Columns
//
// Names are matched case-insensitively after trimming:
//
//   - time: time, timestamp, t or unix_time.
//   - accelerometer (KindAcc, in g): acc_x, ax, accel_x, accelerometer_x,
//     "Accelerometer X", acc2_x, or a bare x, y, z; the separator between
//     prefix and axis may be _, space, . or - or nothing. Channel.Group is
//     the prefix ("acc" for a bare axis), Channel.Axis the letter.
//   - EMG (KindEMG, in mV): emg, or emg followed by _, space, . , - or a
//     digit and anything (emg_1, emg_calf, emg2).
//
// A unit may follow a name in brackets, "emg (uV)" or "acc_x[mg]", or as
// a last _ suffix, "emg_uv" or "acc_x_ms2"; a suffix counts only when it
// is a unit of the column's kind (so emg_calf is a name). Accelerometer
// units are g, mg and m/s2; EMG units V, mV and uV (see decode.Scale).
// An EMG or accelerometer column whose unit is adc, raw or counts
// ("emg_raw_adc") holds converter counts that cannot be scaled without the
// device's calibration: it becomes KindOther with unit "adc". A time
// column may name its unit the same way (time_ms, "time (s)"): s, ms, us
// or ns. Options.Map overrides all of this for the columns it names (keys
// are header names in any case, with or without a unit in brackets or a
// known unit suffix: "emg" maps "emg (uV)" and "emg_uv" but not "emg_1",
// and a key naming no column is an error); a mapped
// column is read as a channel of the mapped kind, its values converted
// by the mapping (decode.Mapping.Linear: raw counts through a scale and
// offset or a maker's transfer function, then decode.Scale). A map key
// ending in "*" is a pattern: it maps every column whose lower-cased name
// begins with what precedes it, unless an exact key names the column.
// Other columns are ignored and never parsed. The first time column
// wins; a header without any value column is an error.
//
// # Files without a header row
//
// With Options.Columns the file has no header row: the names given are
// classified as header names would be (maps apply), and the first line
// that is neither blank nor a comment is data. The separator is the first
// of comma, semicolon, tab and space that splits that line into exactly
// as many fields as there are names, all numbers or empty; a line of
// non-numbers (a header after all), a field count no separator gives, a
// bad cell in it, an empty or repeated name, or names none of which is a
// channel are errors naming the file and line.
//
// # Time
//
// Time cells are numbers, decided by the magnitude of the first data row
// and kept for the whole file: at least 1e17 means Unix nanoseconds, at
// least 1e14 Unix microseconds, at least 1e11 Unix milliseconds, at least
// 1e8 Unix seconds, anything smaller seconds from the start of the
// recording, which then needs Options.Start. A time column with a named
// unit is read in that unit and is absolute when it amounts to at least
// 1e8 s. Plain decimals are converted exactly, integer and fraction apart,
// and rounded to the nearest nanosecond: 1700000000.001 is exactly
// 1700000000001000000 ns. Cells in exponent notation go through a float64
// and are only that precise (about 0.2 µs for epoch seconds).
//
// With a time column Options.Rate is not used. Without one,
// Options.Rate and Options.Start are required (a comment before the first
// row stating the rate, "# Sampling Rate (Hz):= 1000.00" as BioSPPy and
// OpenSignals write it, "% Sample Rate = 250 Hz" or "# fs: 100", stands
// in for a zero Options.Rate; see commentRate) and
// data row i (counting malformed rows, so a bad line does not shift the
// rest) is at Start + i/Rate.
//
// # Mixed rates and missing samples
//
// An empty cell means the channel has no sample at that instant: the
// frame holds pipeline.NoSample there. A row whose value cells are all
// empty is malformed. Channel.RateHz is estimated from a read-ahead of
// the first rows (up to ReadAheadLines data rows or ReadAheadSpan of
// recording, whichever comes first) as 1e9 over the median positive
// interval, in ns, between rows where the channel has a value; a channel
// with fewer than two values there gets 0 (unknown). The read-ahead rows
// are buffered and delivered first, so Meta is complete when New
// returns. Without a time column every channel gets Options.Rate.
//
// # Bad input
//
// A row with the wrong number of fields (fewer than the header, or more
// beyond one trailing empty field), a cell that is not a number, a NaN or
// infinite value, a time earlier than the previous row's (equal is
// fine), or a line longer than MaxLine is malformed: it is counted in
// Stats as a *pipeline.LineError with its 1-based line number and
// skipped, or, with Options.Strict, returned by Next as the error
// (errors.Is(err, pipeline.ErrMalformed) holds).
//
// # Limits
//
// A header row longer than MaxLine (1 MiB), with more than MaxColumns
// (1024) fields or more than MaxChannels (256) value columns is refused
// with an error naming the file and line; the read-ahead holds at most
// ReadAheadValues values.
//
// # Speed
//
// Lines are read with bufio.Reader.ReadSlice and split and parsed in
// place: after the read-ahead, Next allocates nothing per line. Numbers
// take an exact fast path for plain decimals and fall back to strconv.
package csv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/decode/textnum"
	"github.com/twitchd/twitchd/pipeline"
)

// FormatName is the name this decoder registers under.
const FormatName = "csv"

// Read-ahead limits for the rate estimate: New reads data rows until it
// has read ReadAheadLines of them (malformed ones included) or the good
// ones span ReadAheadSpan, whichever comes first, and also stops at
// ReadAheadValues buffered values so a very wide file does not hold
// megabytes.
const (
	ReadAheadLines  = 20000
	ReadAheadSpan   = 10 * time.Second
	ReadAheadValues = 1 << 20
)

// Size limits: a header with more columns, or more value columns, than
// these is an error naming the file and line, and a line longer than
// MaxLine is malformed (skipped and counted). Together they bound what one
// file can make the reader hold: one line, and one frame of MaxChannels
// values per row.
const (
	MaxColumns  = decode.MaxColumns  // fields in the header row
	MaxChannels = decode.MaxChannels // value columns read as channels
)

// Errors a caller may act on, e.g. by asking for the missing flag.
var (
	// ErrNeedRate means the file has no time column and Options.Rate is 0.
	ErrNeedRate = errors.New("no time column: give --rate HZ")
	// ErrNeedStart means the times need Options.Start and it is zero.
	ErrNeedStart = errors.New("time column holds seconds from the start: give --start RFC3339")
	// ErrNoStart means the file has no time column and Options.Start is zero.
	ErrNoStart = errors.New("no time column and no start time: give --start RFC3339")
	// ErrNoColumn means the header names no column the reader can use.
	ErrNoColumn = errors.New("no usable column")
)

func init() {
	decode.Register(decode.Format{Name: FormatName, Sniff: Sniff, Open: Open, Columns: true})
}

// Open is New returning the pipeline.Source interface, for decode.Register.
func Open(r io.Reader, opts decode.Options) (pipeline.Source, error) {
	rd, err := New(r, opts)
	if err != nil {
		return nil, err // not a nil *Reader inside a non-nil interface
	}
	return rd, nil
}

// timing modes of the time column.
const (
	timeUnset = iota
	timeAbsolute
	timeRelative
)

// Reader decodes one delimited text stream. It implements pipeline.Source.
type Reader struct {
	name   string
	strict bool
	lr     *lineReader
	sep    byte
	ncols  int
	names  []string // header column names
	fields [][]byte // scratch for split, cap ncols+1

	timeCol int       // index of the time column, -1 when none
	valCols []int     // header column of each channel
	scales  []float64 // per channel
	offsets []float64 // per channel, added after the scale
	meta    pipeline.Meta
	stats   pipeline.SourceStats

	timeMode int   // timeUnset, timeAbsolute or timeRelative
	unitNS   int64 // ns per time unit
	namedNS  int64 // unit named in the header, 0 when decided by magnitude
	startNS  int64 // Options.Start, 0 when zero
	hasStart bool
	periodNS float64 // 1e9/Rate without a time column
	rows     int64   // data rows seen, including malformed ones
	prev     int64   // time of the last accepted row
	havePrev bool

	// Read-ahead rows, delivered before anything else.
	bufT   []int64
	bufV   []float64
	bufPos int

	decComma bool     // the separator is not a comma: accept 0,25 for 0.25
	numBuf   [64]byte // a decimal-comma cell rewritten with a point

	fatal error // returned by every Next once set
	ticks int   // lines since the last context check

	// commentRate is the rate a comment before the first row stated
	// ("# Sampling Rate (Hz):= 1000.00"), 0 when none did.
	commentRate float64
}

// bad describes a malformed row; code 0 means none.
type bad struct {
	code    int
	col     int    // header column of the offending cell
	cell    []byte // the offending cell, valid until the next line
	nfields int
	back    int64 // ns the time went backwards
}

const (
	badNone = iota
	badCount
	badNumber
	badFinite
	badTimeEmpty
	badTime
	badTimeRange
	badBackwards
	badEmpty
	badTooLong
	badNeedStart // not a row error: the time needs Options.Start
)

// New reads the header, and with a time column the read-ahead rows, of r
// and returns a Reader positioned at the first data row. Errors name
// opts.Name: empty input, no header, no usable column, an unknown unit in
// the header or the map, a map key matching no column, missing Rate or
// Start (ErrNeedRate, ErrNeedStart), and read failures.
func New(r io.Reader, opts decode.Options) (*Reader, error) {
	name := opts.Name
	if name == "" {
		name = "input"
	}
	rd := &Reader{name: name, strict: opts.Strict, lr: newLineReader(r), timeCol: -1}
	if !opts.Start.IsZero() {
		rd.startNS, rd.hasStart = opts.Start.UnixNano(), true
	}
	if opts.Map != nil { // keys are documented lower case; be forgiving
		m := make(map[string]decode.Mapping, len(opts.Map))
		for k, v := range opts.Map {
			m[strings.ToLower(strings.TrimSpace(k))] = v
		}
		opts.Map = m
	}
	header, err := rd.readHeader()
	if err != nil {
		return nil, err
	}
	if !textLine(header) {
		return nil, fmt.Errorf("csv: %s:%d: header line is not text (a binary file?)", name, rd.lr.line)
	}
	var sep byte
	var cols []column
	if len(opts.Columns) > 0 {
		sep, cols, err = rd.namedColumns(header, opts.Columns, opts.Map)
	} else {
		sep, cols, err = parseHeader(header, opts.Map)
		if err != nil {
			err = fmt.Errorf("csv: %s:%d: %w", name, rd.lr.line, err)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := rd.setColumns(sep, cols, opts.Map); err != nil {
		return nil, err
	}
	if len(opts.Columns) > 0 {
		rd.lr.unread(header) // the first line is data
	}
	if rd.timeCol < 0 {
		if err := rd.setRate(opts.Rate); err != nil {
			return nil, err
		}
		return rd, nil
	}
	if err := rd.readAhead(); err != nil {
		return nil, err
	}
	rd.estimateRates()
	return rd, nil
}

// readHeader returns the first line that is neither blank nor a comment.
func (r *Reader) readHeader() ([]byte, error) {
	for {
		line, tooLong, err := r.lr.next()
		switch {
		case errors.Is(err, io.EOF) && r.lr.line == 0:
			return nil, fmt.Errorf("csv: %s: empty input", r.name)
		case errors.Is(err, io.EOF):
			return nil, fmt.Errorf("csv: %s: no header row: %d lines, all comments or blank", r.name, r.lr.line)
		case err != nil:
			return nil, fmt.Errorf("csv: %s: reading header: %w", r.name, err)
		case tooLong:
			return nil, fmt.Errorf("csv: %s:%d: header line longer than %d bytes", r.name, r.lr.line, MaxLine)
		}
		if r.lr.line == 1 && len(line) >= 3 && line[0] == 0xEF && line[1] == 0xBB && line[2] == 0xBF {
			line = line[3:] // UTF-8 byte order mark
		}
		if !skippable(line) {
			return line, nil
		}
		if r.commentRate == 0 {
			r.commentRate = commentRate(line)
		}
	}
}

// setColumns builds the channel list from the classified header.
func (r *Reader) setColumns(sep byte, cols []column, m map[string]decode.Mapping) error {
	r.sep, r.ncols = sep, len(cols)
	r.decComma = sep != ','
	for _, c := range cols {
		r.names = append(r.names, c.name)
	}
	r.fields = make([][]byte, 0, r.ncols+1)
	r.meta = pipeline.Meta{File: r.name, Format: FormatName}
	for i, c := range cols {
		switch c.role {
		case roleTime:
			if r.timeCol < 0 {
				r.timeCol, r.namedNS = i, c.timeNS
			}
		case roleChannel:
			r.valCols = append(r.valCols, i)
			r.scales = append(r.scales, c.scale)
			r.offsets = append(r.offsets, c.offset)
			r.meta.Channels = append(r.meta.Channels, c.ch)
		}
	}
	for k := range m {
		found := false
		for _, c := range cols {
			found = found || mapMatches(k, c.name)
		}
		if !found {
			return fmt.Errorf("csv: %s:%d: --map names column %q, which the header lacks (columns: %s)",
				r.name, r.lr.line, k, columnList(cols))
		}
	}
	if len(r.valCols) == 0 {
		return fmt.Errorf("csv: %s:%d: %w: %s", r.name, r.lr.line, ErrNoColumn, noColumnError(cols))
	}
	if len(r.valCols) > MaxChannels {
		return fmt.Errorf("csv: %s:%d: header names %d value columns, more than the %d channels this decoder reads (csv.MaxChannels)",
			r.name, r.lr.line, len(r.valCols), MaxChannels)
	}
	return nil
}

// setRate configures a file without a time column: rate is
// Options.Rate, else the rate a comment stated.
func (r *Reader) setRate(rate float64) error {
	if rate == 0 {
		rate = r.commentRate
	}
	if rate <= 0 || math.IsNaN(rate) || math.IsInf(rate, 0) {
		return fmt.Errorf("csv: %s: %w", r.name, ErrNeedRate)
	}
	if !r.hasStart {
		return fmt.Errorf("csv: %s: %w", r.name, ErrNoStart)
	}
	r.periodNS = 1e9 / rate
	for i := range r.meta.Channels {
		r.meta.Channels[i].RateHz = rate
	}
	return nil
}

// readAhead buffers the first data rows for the rate estimate.
func (r *Reader) readAhead() error {
	nch := len(r.valCols)
	maxRows := min(ReadAheadLines, max(ReadAheadValues/nch, 16))
	var first int64
	for len(r.bufT) < maxRows && r.rows < ReadAheadLines { // bad rows count too: New stays short
		line, tooLong, err := r.lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("csv: %s:%d: reading: %w", r.name, r.lr.line+1, err)
		}
		if !tooLong && skippable(line) {
			continue
		}
		n := len(r.bufV)
		r.bufV = slices.Grow(r.bufV, nch)[:n+nch]
		t, b := r.row(line, tooLong, r.bufV[n:])
		if b.code != badNone {
			r.bufV = r.bufV[:n]
			if err := r.reject(b); err != nil {
				if b.code == badNeedStart {
					return err
				}
				r.fatal = err // strict: delivered after the rows before it
				return nil
			}
			continue
		}
		r.bufT = append(r.bufT, t)
		if len(r.bufT) == 1 {
			first = t
		} else if t-first >= int64(ReadAheadSpan) {
			return nil
		}
	}
	return nil
}

// estimateRates sets Channel.RateHz from the buffered rows.
func (r *Reader) estimateRates() {
	nch := len(r.valCols)
	var iv []int64
	for c := range nch {
		iv = iv[:0]
		last, seen := int64(0), false
		for i, t := range r.bufT {
			if pipeline.IsNoSample(r.bufV[i*nch+c]) {
				continue
			}
			if seen && t > last {
				iv = append(iv, t-last)
			}
			last, seen = t, true
		}
		if len(iv) == 0 {
			continue
		}
		slices.Sort(iv)
		med := float64(iv[len(iv)/2])
		if len(iv)%2 == 0 {
			med = (float64(iv[len(iv)/2-1]) + med) / 2
		}
		r.meta.Channels[c].RateHz = 1e9 / med
	}
}

// Meta describes the stream: File is Options.Name, Format "csv", one
// Channel per value column in header order.
func (r *Reader) Meta() pipeline.Meta {
	m := r.meta
	m.Channels = slices.Clone(r.meta.Channels)
	return m
}

// Stats reports frames delivered and lines skipped so far.
func (r *Reader) Stats() pipeline.SourceStats {
	s := r.stats
	s.Examples = slices.Clone(r.stats.Examples)
	return s
}

// ctxEvery is how many lines Next reads between checks of its context.
const ctxEvery = 4096

// Next fills b with up to its capacity of frames. It returns io.EOF with
// b empty at the end of the stream, ctx's error when ctx is done before
// any frame was added, the *pipeline.LineError of the first malformed line
// in strict mode, and a wrapped read error when the stream fails; frames
// read before such an error are returned first with a nil error. It
// panics if b was made for a different number of channels.
func (r *Reader) Next(ctx context.Context, b *pipeline.Batch) error {
	b.Reset()
	if b.Channels() != len(r.valCols) {
		panic(fmt.Sprintf("csv: batch has %d channels, stream has %d", b.Channels(), len(r.valCols)))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r.drainBuffer(b)
	for !b.Full() && r.fatal == nil {
		if r.ticks++; r.ticks >= ctxEvery {
			r.ticks = 0
			if ctx.Err() != nil {
				break
			}
		}
		line, tooLong, err := r.lr.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.fatal = fmt.Errorf("csv: %s:%d: reading: %w", r.name, r.lr.line+1, err)
			} else {
				r.fatal = io.EOF
			}
			break
		}
		if !tooLong && skippable(line) {
			continue
		}
		vals := b.Append(0)
		t, bd := r.row(line, tooLong, vals)
		if bd.code != badNone {
			b.Unappend()
			if err := r.reject(bd); err != nil {
				r.fatal = err
			}
			continue
		}
		b.Frames[len(b.Frames)-1].Time = t
	}
	r.stats.Frames += int64(b.Len())
	if b.Len() > 0 {
		return nil
	}
	if r.fatal != nil {
		return r.fatal
	}
	return ctx.Err()
}

// drainBuffer moves read-ahead rows into b and frees them when done.
func (r *Reader) drainBuffer(b *pipeline.Batch) {
	nch := len(r.valCols)
	for r.bufPos < len(r.bufT) && !b.Full() {
		copy(b.Append(r.bufT[r.bufPos]), r.bufV[r.bufPos*nch:(r.bufPos+1)*nch])
		r.bufPos++
	}
	if r.bufT != nil && r.bufPos == len(r.bufT) {
		r.bufT, r.bufV, r.bufPos = nil, nil, 0
	}
}

// row parses one data line into dst and returns its time, or what is
// wrong with it. On success it becomes the previous row for the order
// check.
func (r *Reader) row(line []byte, tooLong bool, dst []float64) (int64, bad) {
	idx := r.rows
	r.rows++
	if tooLong {
		return 0, bad{code: badTooLong}
	}
	fields, n := split(line, r.sep, r.fields)
	if n == r.ncols+1 && len(fields[r.ncols]) == 0 {
		n-- // trailing separator
	}
	if n != r.ncols {
		return 0, bad{code: badCount, nfields: n}
	}
	var t int64
	if r.timeCol >= 0 {
		var b bad
		cell := unquote(fields[r.timeCol])
		if r.decComma {
			cell = r.point(cell)
		}
		if t, b = r.parseTime(cell); b.code != badNone {
			return 0, b
		}
		if r.havePrev && t < r.prev {
			return 0, bad{code: badBackwards, col: r.timeCol, back: r.prev - t}
		}
	} else {
		t = r.startNS + int64(math.Round(float64(idx)*r.periodNS))
	}
	have := false
	for k, c := range r.valCols {
		cell := unquote(fields[c])
		if len(cell) == 0 {
			dst[k] = pipeline.NoSample
			continue
		}
		if r.decComma {
			cell = r.point(cell)
		}
		v, ok := textnum.ParseFloat(cell)
		if !ok {
			return 0, bad{code: badNumber, col: c, cell: cell}
		}
		if !textnum.Finite(v) {
			return 0, bad{code: badFinite, col: c, cell: cell}
		}
		dst[k] = v*r.scales[k] + r.offsets[k]
		have = true
	}
	if !have {
		return 0, bad{code: badEmpty}
	}
	r.prev, r.havePrev = t, true
	return t, bad{}
}

// point rewrites a decimal comma as a point, in numBuf, when cell holds
// exactly one comma and fits; otherwise it returns cell as it is.
func (r *Reader) point(cell []byte) []byte {
	i := indexByte(cell, ',')
	if i < 0 || len(cell) > len(r.numBuf) || indexByte(cell[i+1:], ',') >= 0 {
		return cell
	}
	n := copy(r.numBuf[:], cell)
	r.numBuf[i] = '.'
	return r.numBuf[:n]
}

// parseTime converts a time cell to Unix ns, deciding the interpretation
// on the first row that has one.
func (r *Reader) parseTime(cell []byte) (int64, bad) {
	if len(cell) == 0 {
		return 0, bad{code: badTimeEmpty, col: r.timeCol}
	}
	d, ok := parseDecimal(cell)
	if !ok {
		return 0, bad{code: badTime, col: r.timeCol, cell: cell}
	}
	if r.timeMode == timeUnset {
		if b := r.decideTime(d); b.code != badNone {
			return 0, b
		}
	}
	ns, ok := d.nanos(r.unitNS)
	if ok && r.timeMode == timeRelative {
		ns, ok = addNS(r.startNS, ns)
	}
	if !ok {
		return 0, bad{code: badTimeRange, col: r.timeCol, cell: cell}
	}
	return ns, bad{}
}

// decideTime fixes unit and mode from the first time value.
func (r *Reader) decideTime(d decimal) bad {
	a := d.value()
	switch {
	case r.namedNS != 0:
		r.unitNS = r.namedNS
		if math.Abs(a)*float64(r.namedNS) >= 1e17 {
			r.timeMode = timeAbsolute
		} else {
			r.timeMode = timeRelative
		}
	case a >= 1e17:
		r.unitNS, r.timeMode = 1, timeAbsolute
	case a >= 1e14:
		r.unitNS, r.timeMode = 1e3, timeAbsolute
	case a >= 1e11:
		r.unitNS, r.timeMode = 1e6, timeAbsolute
	case a >= 1e8:
		r.unitNS, r.timeMode = 1e9, timeAbsolute
	default:
		r.unitNS, r.timeMode = 1e9, timeRelative
	}
	if r.timeMode == timeRelative && !r.hasStart {
		r.timeMode = timeUnset
		return bad{code: badNeedStart}
	}
	return bad{}
}

// addNS adds with an overflow check.
func addNS(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// reject handles a malformed row: it returns the error to stop with
// (strict mode, or a condition no row can fix), else counts it and
// returns nil. Building the LineError costs an allocation, so rows past
// the kept examples are only counted.
func (r *Reader) reject(b bad) error {
	if b.code == badNeedStart {
		return fmt.Errorf("csv: %s:%d: %w", r.name, r.lr.line, ErrNeedStart)
	}
	if !r.strict && len(r.stats.Examples) >= pipeline.MaxExamples {
		r.stats.Skipped++
		return nil
	}
	le := &pipeline.LineError{File: r.name, Line: r.lr.line, Offset: -1, Reason: r.reason(b)}
	if r.strict {
		r.stats.Skip(le)
		return le
	}
	r.stats.Skip(le)
	return nil
}

// reason words a malformed row for a LineError.
func (r *Reader) reason(b bad) string {
	col := func() string {
		return fmt.Sprintf("field %d (%s)", b.col+1, r.colName(b.col))
	}
	switch b.code {
	case badCount:
		return fmt.Sprintf("%d fields, header has %d", b.nfields, r.ncols)
	case badNumber:
		return fmt.Sprintf("%s: not a number: %q", col(), clip(b.cell))
	case badFinite:
		return fmt.Sprintf("%s: not a finite number: %q", col(), clip(b.cell))
	case badTimeEmpty:
		return col() + ": empty time"
	case badTime:
		return fmt.Sprintf("%s: time is not a number: %q", col(), clip(b.cell))
	case badTimeRange:
		return fmt.Sprintf("%s: time out of range: %q", col(), clip(b.cell))
	case badBackwards:
		return fmt.Sprintf("time goes backwards by %v", time.Duration(b.back))
	case badEmpty:
		return "no values: every data cell is empty"
	case badTooLong:
		return fmt.Sprintf("line longer than %d bytes", MaxLine)
	}
	return "malformed"
}

// colName is the header name of column i.
func (r *Reader) colName(i int) string {
	if i >= 0 && i < len(r.names) && r.names[i] != "" {
		return r.names[i]
	}
	return "unnamed"
}

// clip shortens a cell for an error message.
func clip(b []byte) string {
	const n = 40
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
