// Package actilife decodes ActiGraph ActiLife raw CSV exports: ten header
// lines ("------------ Data File Created By ActiGraph ... at 30 Hz ...",
// "Start Time hh:mm:ss", "Start Date M/d/yyyy", ..., a line of dashes),
// an optional column header ("Accelerometer X,Accelerometer Y,Accelerometer
// Z", sometimes with a leading "Timestamp" column), then one row per sample
// with the three axes in g.
//
// Times: without a Timestamp column the time of row i is Start Date +
// Start Time + i/rate. With one, each row's own timestamp is used (parsed
// with the header's "date format", e.g. M/d/yyyy or dd/MM/yyyy, and
// "HH:mm:ss.fff"); a row whose time goes backwards is skipped as
// malformed. ActiLife writes local clock times without a zone: they are
// read as UTC, so the Unix times carry the device's wall clock.
//
// Epoch (count) exports, whose "Epoch Period" is not 00:00:00, are not raw
// data and are refused with an error.
//
// Limits: the header may have up to MaxHeaderLines (40) lines before the
// line of dashes, the column header up to MaxColumns (1024) fields, and
// every line up to 64 KiB; past these the file is refused with an error
// naming the file and line (a data line too long is malformed).
package actilife

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/decode/textline"
	"github.com/twitchd/twitchd/internal/decode/textnum"
	"github.com/twitchd/twitchd/pipeline"
)

// FormatName is the name the decoder registers under.
const FormatName = "actilife"

// magic starts the first line of every ActiLife CSV export.
const magic = "------------ Data File Created By ActiGraph"

// Size limits: a header past them is refused with an error naming the
// file and line. Lines may be up to textline.BufferSize (64 KiB) long; a
// longer header line is an error, a longer data line is malformed.
const (
	// MaxHeaderLines bounds the lines read before the line of dashes.
	MaxHeaderLines = 40
	// MaxColumns bounds the fields of the column header.
	MaxColumns = decode.MaxColumns
)

func init() {
	decode.Register(decode.Format{Name: FormatName, Sniff: Sniff, Open: open})
}

func open(r io.Reader, opts decode.Options) (pipeline.Source, error) { return New(r, opts) }

// Sniff scores head: 50 when it starts with the ActiGraph banner line.
func Sniff(head []byte, name string) int {
	if textline.HasBanner(head, magic) {
		return 50
	}
	return 0
}

// Header holds what the ActiLife header says.
type Header struct {
	Device     string    // e.g. "GT3X+"
	Serial     string    // "Serial Number:" value
	RateHz     float64   // from "at N Hz"
	DateFormat string    // from "date format ...", e.g. "M/d/yyyy"
	Start      time.Time // Start Date + Start Time, read as UTC
}

// Decoder is a pipeline.Source reading an ActiLife raw CSV export.
type Decoder struct {
	in   *textline.Reader // lines, line numbers, skipped-line counts
	name string
	hdr  Header
	meta pipeline.Meta

	index  int64 // rows delivered so far, for nominal times
	startN int64 // Start in Unix ns
	tsCol  int   // column of Timestamp, -1 when none
	axCol  [3]int
	ncol   int
	lastT  int64
	fields [][]byte
}

// New reads the header from r and returns a Decoder positioned at the
// first sample. opts.Name names the file in errors; opts.Rate is used
// only when the banner line gives no rate.
func New(r io.Reader, opts decode.Options) (*Decoder, error) {
	name := opts.Name
	if name == "" {
		name = "actilife"
	}
	d := &Decoder{in: textline.NewReader(r, name, opts.Strict), name: name, tsCol: -1}
	if err := d.readHeader(opts); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Decoder) readHeader(opts decode.Options) error {
	var startDate, startTime string
	var sawDashes bool
	for !sawDashes {
		b, err := d.in.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return d.in.Errorf("file ends inside the header (no line of dashes after it)")
			}
			return d.in.HeaderError("header", err)
		}
		s := string(b)
		if d.in.Line() == 1 {
			s = strings.TrimPrefix(s, "\ufeff")
			if !strings.HasPrefix(s, magic) {
				return d.in.Errorf("not an ActiLife CSV: first line does not start with %q", magic)
			}
			d.parseBanner(s)
			continue
		}
		if d.in.Line() > MaxHeaderLines {
			return d.in.Errorf("no line of dashes within the first %d lines", MaxHeaderLines)
		}
		switch {
		case strings.HasPrefix(s, "Serial Number:"):
			d.hdr.Serial = strings.TrimSpace(strings.TrimPrefix(s, "Serial Number:"))
		case strings.HasPrefix(s, "Start Time"):
			startTime = strings.TrimSpace(strings.TrimPrefix(s, "Start Time"))
		case strings.HasPrefix(s, "Start Date"):
			startDate = strings.TrimSpace(strings.TrimPrefix(s, "Start Date"))
		case strings.HasPrefix(s, "Epoch Period (hh:mm:ss)"):
			p := strings.TrimSpace(strings.TrimPrefix(s, "Epoch Period (hh:mm:ss)"))
			if p != "00:00:00" {
				return d.in.Errorf("epoch period %s: this is an epoch (count) export, not raw data", p)
			}
		case strings.HasPrefix(s, "-----"):
			sawDashes = true
		}
	}
	if d.hdr.RateHz <= 0 {
		if opts.Rate <= 0 {
			return d.in.Errorf("the first line gives no sample rate (\"at N Hz\") and no rate was given")
		}
		d.hdr.RateHz = opts.Rate
	}
	if startDate == "" || startTime == "" {
		return d.in.Errorf("header has no Start Date or Start Time line")
	}
	if d.hdr.DateFormat == "" {
		d.hdr.DateFormat = "M/d/yyyy"
	}
	y, mo, dd, ok := parseDate(startDate, d.hdr.DateFormat)
	if !ok {
		return d.in.Errorf("start date %q does not match date format %s", startDate, d.hdr.DateFormat)
	}
	sec, ok := parseClock(startTime)
	if !ok {
		return d.in.Errorf("start time %q is not hh:mm:ss", startTime)
	}
	d.hdr.Start = time.Date(y, time.Month(mo), dd, 0, 0, 0, 0, time.UTC).Add(time.Duration(sec * 1e9))
	d.startN = d.hdr.Start.UnixNano()
	d.lastT = math.MinInt64
	return d.readColumns()
}

// parseBanner takes the device, the date format and the rate from the
// first line.
func (d *Decoder) parseBanner(s string) {
	rest := strings.TrimPrefix(s, magic)
	if f := strings.Fields(rest); len(f) > 0 {
		d.hdr.Device = f[0]
	}
	if i := strings.Index(s, "date format "); i >= 0 {
		if f := strings.Fields(s[i+len("date format "):]); len(f) > 0 {
			d.hdr.DateFormat = f[0]
		}
	}
	f := strings.Fields(s)
	for i := 1; i+1 < len(f); i++ {
		if f[i-1] == "at" && strings.EqualFold(f[i+1], "Hz") {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil && v > 0 && v < 1e6 {
				d.hdr.RateHz = v
			}
		}
	}
}

// readColumns reads the column header if there is one and builds Meta.
func (d *Decoder) readColumns() error {
	d.axCol = [3]int{0, 1, 2}
	d.ncol = 3
	b, err := d.in.Peek(1)
	if err == nil && (b[0] == 'A' || b[0] == 'T' || b[0] == 'a' || b[0] == 't') {
		line, err := d.in.Next()
		if err != nil {
			return d.in.HeaderError("column header", err)
		}
		if n := bytes.Count(line, []byte(",")) + 1; n > MaxColumns {
			return d.in.Errorf("column header has %d columns, more than the %d this decoder reads (actilife.MaxColumns)", n, MaxColumns)
		}
		cols := strings.Split(string(line), ",")
		d.axCol = [3]int{-1, -1, -1}
		for i, c := range cols {
			c = strings.ToLower(strings.TrimSpace(c))
			switch {
			case c == "timestamp":
				d.tsCol = i
			case c == "accelerometer x":
				d.axCol[0] = i
			case c == "accelerometer y":
				d.axCol[1] = i
			case c == "accelerometer z":
				d.axCol[2] = i
			}
		}
		if d.axCol[0] < 0 || d.axCol[1] < 0 || d.axCol[2] < 0 {
			return d.in.Errorf("column header %q lacks Accelerometer X, Y or Z", string(line))
		}
		d.ncol = len(cols)
	}
	d.fields = make([][]byte, 0, d.ncol+1)
	names := [3]string{"Accelerometer X", "Accelerometer Y", "Accelerometer Z"}
	axes := [3]byte{'x', 'y', 'z'}
	chans := make([]pipeline.Channel, 3)
	for i := range chans {
		chans[i] = pipeline.Channel{Name: names[i], Kind: pipeline.KindAcc, Unit: "g", SourceUnit: "g",
			RateHz: d.hdr.RateHz, Axis: axes[i], Group: "acc"}
	}
	d.meta = pipeline.Meta{File: d.name, Format: FormatName, Channels: chans}
	return nil
}

// Header returns what the file's header said.
func (d *Decoder) Header() Header { return d.hdr }

// Meta implements pipeline.Source.
func (d *Decoder) Meta() pipeline.Meta { return d.meta }

// Stats implements pipeline.Source.
func (d *Decoder) Stats() pipeline.SourceStats { return d.in.Stats }

// Next implements pipeline.Source: it fills b with up to its capacity of
// samples.
func (d *Decoder) Next(ctx context.Context, b *pipeline.Batch) error {
	return d.in.Fill(ctx, b, 0, d.slot)
}

// slot decodes one row; a bad row still held a sample slot, so the
// nominal time of the next one moves on either way.
func (d *Decoder) slot(b *pipeline.Batch, line []byte) string {
	reason := d.row(b, line)
	d.index++
	return reason
}

// row decodes one data line into b; it returns why the line was rejected,
// or "".
func (d *Decoder) row(b *pipeline.Batch, line []byte) string {
	f := d.fields[:0]
	for len(line) > 0 || len(f) == 0 {
		i := bytes.IndexByte(line, ',')
		if i < 0 {
			f = append(f, line)
			break
		}
		if len(f) == cap(f) {
			return "too many columns"
		}
		f = append(f, line[:i])
		line = line[i+1:]
	}
	d.fields = f[:0]
	if len(f) < d.ncol {
		return fmt.Sprintf("%d columns, want %d", len(f), d.ncol)
	}
	var t int64
	if d.tsCol >= 0 {
		var ok bool
		t, ok = d.parseTimestamp(f[d.tsCol])
		if !ok {
			return fmt.Sprintf("bad timestamp %q", f[d.tsCol])
		}
		if t < d.lastT {
			return "time goes backwards"
		}
	} else {
		t = d.startN + int64(math.Round(float64(d.index)*1e9/d.hdr.RateHz))
	}
	var v [3]float64
	for k, c := range d.axCol {
		x, ok := textnum.ParseFinite(bytes.TrimSpace(f[c]))
		if !ok {
			return fmt.Sprintf("column %d: %q is not a number", c+1, f[c])
		}
		v[k] = x
	}
	out := b.Append(t)
	copy(out, v[:])
	d.lastT = t
	d.in.Stats.Frames++
	return ""
}

// parseTimestamp reads "<date> HH:mm:ss[.fff]" with the header's date format.
func (d *Decoder) parseTimestamp(b []byte) (int64, bool) {
	b = bytes.TrimSpace(b)
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 {
		return 0, false
	}
	y, mo, dd, ok := parseDate(unsafe.String(unsafe.SliceData(b), sp), d.hdr.DateFormat)
	if !ok {
		return 0, false
	}
	c := bytes.TrimSpace(b[sp+1:])
	if len(c) == 0 {
		return 0, false
	}
	sec, ok := parseClock(unsafe.String(unsafe.SliceData(c), len(c)))
	if !ok {
		return 0, false
	}
	days := daysFromCivil(y, mo, dd)
	return days*86400e9 + int64(math.Round(sec*1e9)), true
}

// parseDate reads s laid out as format, whose parts (d, dd, M, MM, yyyy,
// yy) are separated by '/', '-' or '.'. Two-digit years are 20yy.
func parseDate(s, format string) (y, m, d int, ok bool) {
	for len(format) > 0 {
		j := 0
		for j < len(format) && format[j] == format[0] {
			j++
		}
		tok := format[:j]
		format = format[j:]
		switch tok[0] {
		case 'd', 'M', 'y':
			k := 0
			v := 0
			for k < len(s) && s[k] >= '0' && s[k] <= '9' && k < 4 {
				v = v*10 + int(s[k]-'0')
				k++
			}
			if k == 0 {
				return 0, 0, 0, false
			}
			s = s[k:]
			switch tok[0] {
			case 'd':
				d = v
			case 'M':
				m = v
			default:
				if k <= 2 {
					v += 2000
				}
				y = v
			}
		default:
			if len(s) == 0 || s[0] != tok[0] {
				return 0, 0, 0, false
			}
			s = s[1:]
		}
	}
	ok = len(s) == 0 && m >= 1 && m <= 12 && d >= 1 && d <= 31 && y > 0
	return
}

// parseClock reads "hh:mm:ss[.fff]" as seconds since midnight.
func parseClock(s string) (float64, bool) {
	h, rest, ok1 := strings.Cut(s, ":")
	mi, sec, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return 0, false
	}
	hv, e1 := strconv.Atoi(h)
	mv, e2 := strconv.Atoi(mi)
	sv, e3 := strconv.ParseFloat(sec, 64)
	if e1 != nil || e2 != nil || e3 != nil || hv < 0 || hv > 23 || mv < 0 || mv > 59 || !(sv >= 0 && sv < 61) {
		return 0, false
	}
	return float64(hv*3600+mv*60) + sv, true
}

// daysFromCivil returns days since 1970-01-01 for a proleptic Gregorian
// date, without allocating (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
