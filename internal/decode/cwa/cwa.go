// Package cwa decodes Axivity AX3/AX6 .cwa files, following OpenMovement's
// format notes (Docs/ax3/cwa.h) and GGIRread's readAxivity.
//
// A file is one 1024-byte header block ("MD") and then 512-byte data
// blocks ("AX"), each with a timestamp, a sample-rate code, a sample count
// and either packed samples (4 bytes: 10-bit x, y, z and a shared 2-bit
// exponent, 1/256 g) or unpacked int16 samples (3 axes, or 6 on the AX6
// with gyroscope x, y, z first, or 9 with a magnetometer last). Blocks are
// read one at a time (two are held: the one being delivered and the
// next).
//
// Channels: "x", "y", "z" (KindAcc, g, group "acc"); on the AX6 first
// "gx", "gy", "gz" (KindOther, degrees per second); a magnetometer's
// "mx", "my", "mz" follow as raw KindOther values. Unpacked accelerometer
// values are scaled by 1/2^(8+n) g, n from the block's light field (top
// three bits); gyroscope values by 8000/2^m/2^15 dps, m from the next
// three bits, as GGIRread does.
//
// Times: the block's start is its timestamp (the device clock, read as
// UTC) plus the 1/65536-s fraction in deviceFractional when its top bit is
// set, minus timestampOffset samples (the firmware's sample index of the
// timestamp, which GGIRread corrects for the fraction): start = T +
// f/65536 − (timestampOffset + ⌊f·rate/65536⌋)/rate. Samples of a block
// are spaced evenly from its start to the next block's start, which
// follows the device's true rate (about 98.8 Hz for a nominal 100 Hz in the
// GGIR test file); when that spacing is off the nominal by more than half
// (a gap or a clock change) and for the last block, the previous block's
// spacing, or the nominal one, is used. Times never go backwards.
//
// Bad blocks (wrong magic, checksum not zero, impossible sample count)
// are skipped and counted with their byte offset; a block cut short at the
// end of the file is skipped the same way (errors in strict mode).
//
// Limits: the sizes are fixed (HeaderSize, BlockSize), so length and count
// fields are checked against them and never used to size a buffer; memory
// stays at two decoded blocks whatever the file holds.
package cwa

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/pipeline"
)

// FormatName is the name the decoder registers under.
const FormatName = "cwa"

// Sizes fixed by the format, and so the reader's limits: it reads the
// header and every block into fixed arrays, whatever their length fields
// say (a header packet length other than 1020 is an error, a block packet
// length other than 508 or a sample count that does not fit in the block
// makes the block bad), so memory stays at two decoded blocks.
const (
	// HeaderSize is the header block's size in bytes.
	HeaderSize = 1024
	// BlockSize is a data block's size in bytes.
	BlockSize  = 512
	maxSamples = 240 // 480 data bytes / 2 bytes for one int16 axis
)

func init() {
	decode.Register(decode.Format{Name: FormatName, Sniff: Sniff, Open: open})
}

func open(r io.Reader, opts decode.Options) (pipeline.Source, error) { return New(r, opts) }

// Sniff scores head: 50 for "MD" with packet length 1020 and, when the
// head is long enough, an "AX" block at byte 1024.
func Sniff(head []byte, name string) int {
	if len(head) < 4 || string(head[:2]) != "MD" || binary.LittleEndian.Uint16(head[2:]) != 1020 {
		return 0
	}
	if len(head) >= HeaderSize+2 && string(head[HeaderSize:HeaderSize+2]) != "AX" {
		return 20
	}
	return 50
}

// Header is what the 1024-byte header block says.
type Header struct {
	HardwareType byte   // 0x00/0x17/0xff AX3, 0x64 AX6
	DeviceID     uint32 // lower and upper words combined
	SessionID    uint32
	RateHz       float64 // from the sampling rate code
	RangeG       int     // ±g
	Firmware     byte
}

// block is one decoded data block.
type block struct {
	offset  int64 // byte offset in the file
	start   int64 // Unix ns of its first sample
	n       int
	rate    float64
	samples [maxSamples * 9]float64
}

// Decoder is a pipeline.Source reading a CWA file.
type Decoder struct {
	br     *bufio.Reader
	name   string
	strict bool
	hdr    Header
	meta   pipeline.Meta
	stats  pipeline.SourceStats
	axes   int // values per sample in the file

	raw        [BlockSize]byte
	offset     int64
	cur, next  *block
	haveNext   bool
	i          int     // next sample of cur
	period     float64 // ns per sample for cur
	lastPeriod float64
	lastT      int64
	eof        bool
	started    bool
	pending    error // a fatal error met while reading ahead, returned once cur is delivered
}

// New reads the header block from r. opts.Name names the file in errors.
func New(r io.Reader, opts decode.Options) (*Decoder, error) {
	name := opts.Name
	if name == "" {
		name = "cwa"
	}
	d := &Decoder{br: bufio.NewReaderSize(r, 64<<10), name: name, strict: opts.Strict, cur: new(block), next: new(block),
		lastT: math.MinInt64}
	var h [HeaderSize]byte
	n, err := io.ReadFull(d.br, h[:])
	if n >= 2 && string(h[:2]) != "MD" || n < 2 {
		return nil, &pipeline.LineError{File: name, Offset: 0, Reason: fmt.Sprintf("not a CWA file: it does not start with \"MD\" (%q)", h[:min(n, 2)])}
	}
	if err != nil {
		return nil, &pipeline.LineError{File: name, Offset: int64(n), Reason: fmt.Sprintf("file ends inside the 1024-byte header block (%d bytes)", n)}
	}
	if l := binary.LittleEndian.Uint16(h[2:]); l != 1020 {
		return nil, &pipeline.LineError{File: name, Offset: 2, Reason: fmt.Sprintf("header packet length %d, want 1020", l)}
	}
	d.offset = HeaderSize
	upper := uint32(binary.LittleEndian.Uint16(h[11:]))
	if upper == 0xffff {
		upper = 0
	}
	d.hdr = Header{HardwareType: h[4], DeviceID: upper<<16 | uint32(binary.LittleEndian.Uint16(h[5:])),
		SessionID: binary.LittleEndian.Uint32(h[7:]), Firmware: h[41]}
	code := h[36]
	d.hdr.RateHz = 3200 / float64(int(1)<<(15-(code&0x0f)))
	d.hdr.RangeG = 16 >> (code >> 6)
	if err := d.first(); err != nil {
		return nil, err
	}
	return d, nil
}

// first reads up to the first good data block to learn the layout.
func (d *Decoder) first() error {
	ok, err := d.readBlock(d.next)
	if err != nil {
		return err
	}
	if !ok {
		return &pipeline.LineError{File: d.name, Offset: d.offset, Reason: "no valid data block"}
	}
	d.haveNext = true
	var names []string
	switch d.axes {
	case 3:
		names = []string{"x", "y", "z"}
	case 6:
		names = []string{"gx", "gy", "gz", "x", "y", "z"}
	case 9:
		names = []string{"gx", "gy", "gz", "x", "y", "z", "mx", "my", "mz"}
	}
	var ch []pipeline.Channel
	for _, n := range names {
		c := pipeline.Channel{Name: n, Kind: pipeline.KindOther, RateHz: d.hdr.RateHz}
		switch {
		case len(n) == 1:
			c.Kind, c.Unit, c.SourceUnit, c.Axis, c.Group = pipeline.KindAcc, "g", "g", n[0], "acc"
		case n[0] == 'g':
			c.Unit, c.SourceUnit = "dps", "dps"
		default:
			c.Unit, c.SourceUnit = "raw", "raw"
		}
		ch = append(ch, c)
	}
	d.meta = pipeline.Meta{File: d.name, Format: FormatName, Channels: ch}
	return nil
}

// Header returns what the header block said.
func (d *Decoder) Header() Header { return d.hdr }

// Meta implements pipeline.Source.
func (d *Decoder) Meta() pipeline.Meta { return d.meta }

// Stats implements pipeline.Source.
func (d *Decoder) Stats() pipeline.SourceStats { return d.stats }

// bad skips and counts the record at byte offset off, or in strict mode
// returns it as the error.
func (d *Decoder) bad(off int64, reason string) error {
	return decode.Skip(&d.stats, d.strict, &pipeline.LineError{File: d.name, Offset: off, Reason: reason})
}

// readBlock reads blocks until a good one, decoding it into b. It
// returns false at the end of the file.
func (d *Decoder) readBlock(b *block) (bool, error) {
	for {
		if d.eof {
			return false, nil
		}
		at := d.offset
		n, err := io.ReadFull(d.br, d.raw[:])
		d.offset += int64(n)
		if err != nil {
			d.eof = true
			if errors.Is(err, io.EOF) {
				return false, nil
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return false, d.bad(at, fmt.Sprintf("data block cut short: %d of %d bytes", n, BlockSize))
			}
			return false, fmt.Errorf("%s: byte %d: %w", d.name, at, err)
		}
		if reason := d.decodeBlock(b, at); reason != "" {
			if e := d.bad(at, reason); e != nil {
				return false, e
			}
			continue
		}
		return true, nil
	}
}

// decodeBlock checks and decodes d.raw; it returns why the block is bad,
// or "".
func (d *Decoder) decodeBlock(b *block, at int64) string {
	p := d.raw[:]
	if p[0] != 'A' || p[1] != 'X' {
		return fmt.Sprintf("data block starts with %q, want \"AX\"", p[:2])
	}
	if l := binary.LittleEndian.Uint16(p[2:]); l != 508 {
		return fmt.Sprintf("data block packet length %d, want 508", l)
	}
	var sum uint16
	for i := 0; i < BlockSize; i += 2 {
		sum += binary.LittleEndian.Uint16(p[i:])
	}
	if sum != 0 {
		return fmt.Sprintf("data block checksum 0x%04x, want 0", sum)
	}
	frac := binary.LittleEndian.Uint16(p[4:])
	ts := binary.LittleEndian.Uint32(p[14:])
	light := binary.LittleEndian.Uint16(p[18:])
	rateCode := p[24]
	nab := p[25]
	tsOff := int64(int16(binary.LittleEndian.Uint16(p[26:])))
	count := int(binary.LittleEndian.Uint16(p[28:]))
	axes, packing := int(nab>>4), nab&0x0f
	if axes != 3 && axes != 6 && axes != 9 {
		return fmt.Sprintf("%d axes, want 3, 6 or 9", axes)
	}
	if packing != 0 && packing != 2 || packing == 0 && axes != 3 {
		return fmt.Sprintf("packing %d with %d axes is not a known sample format", packing, axes)
	}
	size := 2 * axes
	if packing == 0 {
		size = 4
	}
	if count*size > 480 {
		return fmt.Sprintf("%d samples of %d bytes do not fit in a block", count, size)
	}
	if d.axes == 0 {
		d.axes = axes
	} else if axes != d.axes {
		return fmt.Sprintf("%d axes, but the file started with %d", axes, d.axes)
	}
	var rate float64
	shift := tsOff
	var fracNs int64
	if rateCode != 0 {
		rate = 3200 / float64(int(1)<<(15-(rateCode&0x0f)))
		if frac&0x8000 != 0 {
			f := int64(frac&0x7fff) << 1 // a 16-bit fraction of a second
			fracNs = f * 1e9 / 65536
			shift += (f * int64(math.Round(rate))) >> 16
		}
	} else {
		rate = float64(tsOff) // very old files keep the rate here
		shift = 0
	}
	if !(rate > 0) {
		return fmt.Sprintf("sample rate %v", rate)
	}
	t, ok := packedTime(ts)
	if !ok {
		return fmt.Sprintf("timestamp 0x%08x is not a valid date", ts)
	}
	b.offset, b.n, b.rate = at, count, rate
	b.start = t + fracNs - int64(math.Round(float64(shift)*1e9/rate))
	data := p[30:510]
	out := b.samples[:count*axes]
	if packing == 0 {
		for i := range count {
			v := binary.LittleEndian.Uint32(data[4*i:])
			e := v >> 30
			x := int32(v<<22) >> 22
			y := int32(v<<12) >> 22
			z := int32(v<<2) >> 22
			s := float64(int32(1)<<e) / 256
			out[3*i], out[3*i+1], out[3*i+2] = float64(x)*s, float64(y)*s, float64(z)*s
		}
		return ""
	}
	accScale := 1 / math.Exp2(float64(8+(light>>13)))
	gyroScale := 8000 / math.Exp2(float64((light>>10)&7)) / 32768
	for i := range out {
		v := float64(int16(binary.LittleEndian.Uint16(data[2*i:])))
		switch k := i % axes; {
		case axes == 3 || (k >= 3 && k < 6):
			v *= accScale
		case k < 3:
			v *= gyroScale
		}
		out[i] = v
	}
	return ""
}

// packedTime decodes YYYYYYMM MMDDDDDh hhhhmmmm mmssssss (year − 2000).
func packedTime(v uint32) (int64, bool) {
	y := int(v>>26&0x3f) + 2000
	mo := int(v >> 22 & 0x0f)
	dd := int(v >> 17 & 0x1f)
	h := int(v >> 12 & 0x1f)
	mi := int(v >> 6 & 0x3f)
	s := int(v & 0x3f)
	if mo < 1 || mo > 12 || dd < 1 || dd > 31 || h > 23 || mi > 59 || s > 59 {
		return 0, false
	}
	return time.Date(y, time.Month(mo), dd, h, mi, s, 0, time.UTC).UnixNano(), true
}

// advance makes the next block current and reads the one after it.
func (d *Decoder) advance() (bool, error) {
	if !d.haveNext {
		return false, d.pending
	}
	d.cur, d.next = d.next, d.cur
	d.i = 0
	ok, err := d.readBlock(d.next)
	d.haveNext = ok
	if err != nil {
		d.pending = err
	}
	nominal := 1e9 / d.cur.rate
	d.period = nominal
	if d.lastPeriod > 0 {
		d.period = d.lastPeriod
	}
	if ok && d.cur.n > 0 {
		p := float64(d.next.start-d.cur.start) / float64(d.cur.n)
		if p > 0.5*nominal && p < 1.5*nominal {
			d.period = p
		}
	}
	d.lastPeriod = d.period
	return true, nil
}

// Next implements pipeline.Source.
func (d *Decoder) Next(ctx context.Context, b *pipeline.Batch) error {
	b.Reset()
	axes := d.axes
	for !b.Full() {
		if !d.started || d.i >= d.cur.n {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			ok, _ := d.advance()
			d.started = true
			if !ok {
				if b.Len() > 0 {
					return nil
				}
				if d.pending != nil {
					err := d.pending
					d.pending = nil
					return err
				}
				return io.EOF
			}
			continue
		}
		t := d.cur.start + int64(math.Round(float64(d.i)*d.period))
		if t < d.lastT {
			t = d.lastT
		}
		d.lastT = t
		v := b.Append(t)
		copy(v, d.cur.samples[d.i*axes:(d.i+1)*axes])
		d.i++
		d.stats.Frames++
	}
	return nil
}
