// Package ascii decodes Arduino-style text streams: one line per sample,
// values separated by commas, semicolons, spaces or tabs, optionally as
// label:value pairs (the Arduino Serial Plotter's format) and optionally
// led by a millisecond counter (millis()). Each column maps to a kind and
// unit, with raw ADC conversion (bits, reference voltage, gain, offset).
// It registers the format "ascii" with package decode.
//
// Limits: lines up to MaxLine (4096) bytes, longer ones skipped and
// counted; at most MaxChannels (256) columns, configured or inferred from
// the first line, and indexes below MaxColumns (1024); a configuration
// past these is refused with an error naming the port or file.
package ascii

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

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/decode/capture"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/pipeline"
)

// Name is the format name.
const Name = "ascii"

// Size limits. A line longer than MaxLine is skipped and counted (a run
// of bytes without a newline is never held beyond it); a configuration or
// a first line with more than MaxChannels columns, or an index past
// MaxColumns-1, is refused.
const (
	// MaxLine bounds a line, in bytes.
	MaxLine = 4096
	// MaxColumns bounds Column.Index + 1 (the values of a line that can
	// be addressed).
	MaxColumns = decode.MaxColumns
	// MaxChannels bounds the configured or inferred columns.
	MaxChannels = decode.MaxChannels
)

// Column maps one value of a line to a channel. The value in the
// channel's canonical unit is
//
//	((raw × VRef / 2^ADCBits if ADCBits > 0, else raw) − Offset) / Gain × Scale
//
// in Unit, then converted to g or mV (decode.Scale).
type Column struct {
	// Label selects a label:value pair; otherwise Index selects the
	// Index-th plain value (0-based, after the counter).
	Label string
	Index int
	// Name is the channel name (default: Label, or "c<Index>").
	Name string
	Kind pipeline.Kind
	// Unit is the unit after conversion (default the kind's canonical
	// unit; "V" is usual with ADCBits).
	Unit string
	// ADCBits, VRef (default 5 V) convert ADC counts to volts.
	ADCBits int
	VRef    float64
	// Gain (default 1), Offset (subtracted first) and Scale (default 1).
	Gain, Offset, Scale float64
	// Axis and Group tie accelerometer axes together (default group "acc").
	Axis  byte
	Group string
}

// Config configures the parser.
type Config struct {
	// Rate is the sample rate in Hz (required).
	Rate float64
	// Counter says the first value of each line is a millisecond counter;
	// samples are then timed by it.
	Counter bool
	// Columns to read, in channel order (required; see Infer).
	Columns []Column
}

// Parser is an ASCII line parser; it implements serial.Decoder.
type Parser struct {
	name     string
	cfg      Config
	chans    []pipeline.Channel
	a, b     []float64 // value = raw*a + b
	byLabel  map[string]int
	byIndex  []int // plain index -> column, -1 none
	seen     []bool
	in       capture.Buffer // bytes fed and not yet decoded
	line     int64
	dropLine bool
	msLast   int64
	ms0      int64
	msInit   bool
	devExtra int64

	// TooLong counts lines longer than MaxLine.
	TooLong int64
}

// NewParser returns a Parser for cfg; name appears in errors.
func NewParser(name string, cfg Config) (*Parser, error) {
	if !(cfg.Rate > 0) {
		return nil, fmt.Errorf("ascii: %s: a sample rate is needed (rate = ... in the config, or --rate)", name)
	}
	if math.IsInf(cfg.Rate, 0) {
		return nil, fmt.Errorf("ascii: %s: sample rate %v is not finite", name, cfg.Rate)
	}
	if len(cfg.Columns) == 0 {
		return nil, fmt.Errorf("ascii: %s: no columns configured", name)
	}
	if len(cfg.Columns) > MaxChannels {
		return nil, fmt.Errorf("ascii: %s: %d columns, more than the %d channels this decoder reads (ascii.MaxChannels)", name, len(cfg.Columns), MaxChannels)
	}
	p := &Parser{name: name, cfg: cfg, byLabel: map[string]int{}}
	for i, c := range cfg.Columns {
		if c.Name == "" {
			c.Name = c.Label
			if c.Name == "" {
				c.Name = fmt.Sprintf("c%d", c.Index)
			}
		}
		if c.Unit == "" {
			c.Unit = decode.CanonicalUnit(c.Kind)
		}
		us, err := decode.Scale(c.Kind, c.Unit)
		if err != nil {
			return nil, fmt.Errorf("ascii: column %q: %w", c.Name, err)
		}
		a := 1.0
		if c.ADCBits > 0 {
			if c.ADCBits > 32 {
				return nil, fmt.Errorf("ascii: column %q: adc_bits %d is too many", c.Name, c.ADCBits)
			}
			if c.VRef == 0 {
				c.VRef = 5
			}
			a = c.VRef / float64(uint64(1)<<c.ADCBits)
		}
		if c.Gain == 0 {
			c.Gain = 1
		}
		if c.Scale == 0 {
			c.Scale = 1
		}
		k := c.Scale * us / c.Gain
		p.a = append(p.a, a*k)
		p.b = append(p.b, -c.Offset*k)
		ch := pipeline.Channel{Name: c.Name, Kind: c.Kind, Unit: decode.CanonicalUnit(c.Kind), SourceUnit: c.Unit, RateHz: cfg.Rate}
		if ch.Unit == "" {
			ch.Unit = c.Unit
		}
		if c.Kind == pipeline.KindAcc {
			ch.Axis, ch.Group = c.Axis, c.Group
			if ch.Group == "" {
				ch.Group = "acc"
			}
		}
		p.chans = append(p.chans, ch)
		if c.Label != "" {
			if _, dup := p.byLabel[c.Label]; dup {
				return nil, fmt.Errorf("ascii: label %q mapped twice", c.Label)
			}
			p.byLabel[c.Label] = i
		} else {
			if c.Index < 0 || c.Index >= MaxColumns {
				return nil, fmt.Errorf("ascii: %s: column %q: index %d out of 0..%d (ascii.MaxColumns)", name, c.Name, c.Index, MaxColumns-1)
			}
			for len(p.byIndex) <= c.Index {
				p.byIndex = append(p.byIndex, -1)
			}
			if p.byIndex[c.Index] >= 0 {
				return nil, fmt.Errorf("ascii: value %d mapped twice", c.Index)
			}
			p.byIndex[c.Index] = i
		}
		cfg.Columns[i] = c
	}
	p.seen = make([]bool, len(cfg.Columns))
	return p, nil
}

// Channels implements serial.Decoder.
func (p *Parser) Channels() []pipeline.Channel { return p.chans }

// Rate implements serial.Decoder.
func (p *Parser) Rate() float64 { return p.cfg.Rate }

// Feed implements serial.Decoder.
func (p *Parser) Feed(b []byte) { p.in.Feed(b) }

// Reset implements serial.Decoder: the first line after it may be partial
// and is dropped without counting.
func (p *Parser) Reset() {
	p.in.Drop()
	p.dropLine = true
	p.msInit = false
}

// Decode implements serial.Decoder.
func (p *Parser) Decode(vals []float64) (serial.Sample, error) {
	for {
		av := p.in.Buf[p.in.R:]
		i := bytes.IndexByte(av, '\n')
		if i < 0 {
			if len(av) > MaxLine {
				off := p.in.Base + int64(p.in.R)
				p.in.R = len(p.in.Buf)
				if p.dropLine { // the rest of a line already reported, or partial
					return serial.Sample{}, serial.ErrNeedMore
				}
				p.dropLine = true // its tail, up to the newline, is no sample
				p.TooLong++
				return serial.Sample{}, &pipeline.LineError{File: p.name, Offset: off, Reason: fmt.Sprintf("no line end within %d bytes", MaxLine)}
			}
			return serial.Sample{}, serial.ErrNeedMore
		}
		line := av[:i]
		off := p.in.Base + int64(p.in.R)
		p.in.R += i + 1
		if p.dropLine {
			p.dropLine = false
			continue
		}
		p.line++
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		s, reason := p.parse(line, vals)
		if reason != "" {
			return serial.Sample{}, &pipeline.LineError{File: p.name, Line: p.line, Offset: off, Reason: reason}
		}
		return s, nil
	}
}

func isSep(c byte) bool { return c == ',' || c == ' ' || c == '\t' || c == ';' }

// parse reads one line; it returns a non-empty reason when the line is bad.
func (p *Parser) parse(line []byte, vals []float64) (serial.Sample, string) {
	var s serial.Sample
	clear(p.seen)
	plain := 0
	counter := p.cfg.Counter
	for len(line) > 0 {
		for len(line) > 0 && isSep(line[0]) {
			line = line[1:]
		}
		j := 0
		for j < len(line) && !isSep(line[j]) {
			j++
		}
		if j == 0 {
			break
		}
		tok := line[:j]
		line = line[j:]
		col := -1
		if k := bytes.IndexByte(tok, ':'); k >= 0 {
			c, ok := p.byLabel[string(tok[:k])]
			tok = tok[k+1:]
			if !ok {
				continue
			}
			col = c
		} else if counter {
			counter = false
			ms, err := strconv.ParseInt(string(tok), 10, 64)
			if err != nil {
				return s, fmt.Sprintf("counter %q is not an integer", tok)
			}
			p.stampCounter(ms, &s)
			continue
		} else {
			if plain < len(p.byIndex) {
				col = p.byIndex[plain]
			}
			plain++
			if col < 0 {
				continue
			}
		}
		v, err := strconv.ParseFloat(string(tok), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return s, fmt.Sprintf("value %q is not a number", tok)
		}
		vals[col] = v*p.a[col] + p.b[col]
		p.seen[col] = true
	}
	if counter {
		return s, "no counter"
	}
	for i, ok := range p.seen {
		if !ok {
			return s, fmt.Sprintf("no value for column %q", p.chans[i].Name)
		}
	}
	return s, ""
}

// stampCounter turns a millisecond counter into device time, detecting
// gaps (lost samples) and resets (the counter going back).
func (p *Parser) stampCounter(ms int64, s *serial.Sample) {
	period := 1000 / p.cfg.Rate
	s.HasDevice = true
	if !p.msInit {
		p.msInit, p.ms0, p.msLast = true, ms, ms
		s.Device = p.devExtra
		return
	}
	d := ms - p.msLast
	switch {
	case d < 0:
		s.Reset = true
		// Continue device time one period after the last sample.
		p.devExtra += int64(float64(p.msLast-p.ms0)*1e6 + period*1e6)
		p.ms0 = ms
	case float64(d) > 2*period+1:
		s.Lost = int64(math.Round(float64(d)/period)) - 1
	}
	p.msLast = ms
	s.Device = p.devExtra + (ms-p.ms0)*1e6
}

// Infer guesses columns from one line: label:value pairs by label, plain
// values as c0, c1, ...; a label or position containing "emg" is EMG in
// mV, "acc"/"ax"/"ay"/"az" or x/y/z an accelerometer axis in g, anything
// else is kept as "other". With counter, the first plain value is skipped.
func Infer(line string, counter bool) []Column {
	var cols []Column
	plain := 0
	for _, tok := range strings.FieldsFunc(strings.TrimSpace(line), func(r rune) bool { return r < 128 && isSep(byte(r)) }) {
		label, _, hasLabel := strings.Cut(tok, ":")
		if !hasLabel {
			if counter {
				counter = false
				continue
			}
			cols = append(cols, Column{Index: plain, Kind: pipeline.KindOther})
			plain++
			continue
		}
		c := Column{Label: label, Kind: pipeline.KindOther}
		l := strings.ToLower(label)
		switch {
		case strings.Contains(l, "emg"):
			c.Kind = pipeline.KindEMG
		case strings.Contains(l, "acc") || l == "ax" || l == "ay" || l == "az" || l == "x" || l == "y" || l == "z":
			c.Kind = pipeline.KindAcc
			if last := l[len(l)-1]; last == 'x' || last == 'y' || last == 'z' {
				c.Axis = last
			}
		}
		cols = append(cols, c)
	}
	return cols
}

// Probe reads from r until it holds one complete line after the first line
// end (the first may be partial), and returns that line and every byte
// read after the first line end, for the parser's first Feed.
func Probe(ctx context.Context, r serial.Reader, timeout time.Duration) (line string, rest []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var all []byte
	buf := make([]byte, 512)
	for {
		n, _, err := r.Read(ctx, buf, 0)
		if errors.Is(err, serial.ErrNewConnection) {
			all = all[:0]
			continue
		}
		all = append(all, buf[:n]...)
		if i := bytes.IndexByte(all, '\n'); i >= 0 {
			if j := bytes.IndexByte(all[i+1:], '\n'); j >= 0 {
				ln := strings.TrimRight(string(all[i+1:i+1+j]), "\r")
				return ln, all[i+1:], nil
			}
		}
		if err != nil {
			return "", nil, fmt.Errorf("ascii: waiting for a first line: %w", err)
		}
		if len(all) > 2*MaxLine {
			return "", nil, fmt.Errorf("ascii: no line ends in the first %d bytes", len(all))
		}
	}
}

func init() {
	decode.Register(decode.Format{
		Name:  Name,
		Sniff: sniff,
		Open:  open,
	})
}

// sniff claims text whose lines are label:value pairs (score 3); plain
// numeric text is left to the csv decoder.
func sniff(head []byte, _ string) int {
	lines := bytes.Split(head, []byte("\n"))
	good := 0
	for _, ln := range lines[:max(len(lines)-1, 1)] {
		ln = bytes.TrimSpace(ln)
		if len(ln) == 0 {
			continue
		}
		if bytes.IndexByte(ln, ':') < 0 {
			return 0
		}
		for _, tok := range bytes.FieldsFunc(ln, func(r rune) bool { return r < 128 && isSep(byte(r)) }) {
			_, v, ok := bytes.Cut(tok, []byte(":"))
			if !ok {
				continue
			}
			if _, err := strconv.ParseFloat(string(v), 64); err != nil {
				return 0
			}
		}
		good++
	}
	if good >= 2 {
		return 3
	}
	return 0
}

// open decodes a recorded capture: columns are inferred from the first
// line and overridden by opts.Map (by lower-cased name); opts.Rate is required.
func open(r io.Reader, opts decode.Options) (pipeline.Source, error) {
	data := make([]byte, 0, 1024)
	buf := make([]byte, 1024)
	var first string
	for {
		n, err := r.Read(buf)
		data = append(data, buf[:n]...)
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			first = string(data[:i])
			break
		}
		if err != nil {
			first = string(data)
			break
		}
		if len(data) > MaxLine {
			return nil, fmt.Errorf("ascii: %s: no line end in the first %d bytes", opts.Name, MaxLine)
		}
	}
	cols := Infer(first, false)
	for i := range cols {
		name := cols[i].Label
		if name == "" {
			name = fmt.Sprintf("c%d", cols[i].Index)
		}
		if m, ok := opts.Map[strings.ToLower(name)]; ok {
			cols[i].Kind, cols[i].Unit = m.Kind, m.Unit
			if m.Scale != 0 { // raw·S + O = (raw − (−O/S))·S
				cols[i].Scale, cols[i].Offset = m.Scale, -m.Offset/m.Scale
			} else if m.Offset != 0 {
				cols[i].Offset = -m.Offset
			}
		}
	}
	p, err := NewParser(opts.Name, Config{Rate: opts.Rate, Columns: cols})
	if err != nil {
		return nil, err
	}
	p.Feed(data)
	return capture.Open(r, p, Name, opts), nil
}

// ProbeTimeout bounds the wait for a first line when columns are inferred.
const ProbeTimeout = 10 * time.Second

// Dial connects to a device printing lines at cc.Name and returns a live
// Source and the Conn under it; close the Conn when done. Without
// cfg.Columns it waits for a first complete line and infers them (Infer).
func Dial(ctx context.Context, cc serial.ConnConfig, cfg Config, so serial.StreamOptions) (*serial.Stream, *serial.Conn, error) {
	if so.Name == "" {
		so.Name = cc.Name
	}
	conn := serial.Dial(ctx, cc)
	var rest []byte
	if len(cfg.Columns) == 0 {
		line, r, err := Probe(ctx, conn, ProbeTimeout)
		if err != nil {
			conn.Close()
			return nil, nil, err
		}
		cfg.Columns, rest = Infer(line, cfg.Counter), r
	}
	p, err := NewParser(so.Name, cfg)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	if rest != nil {
		p.Feed(rest)
	} else {
		p.Reset()
	}
	return capture.Live(conn, p, Name, so, cc.Log), conn, nil
}
