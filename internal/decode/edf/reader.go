// Package edf reads and writes EDF, EDF+ and BDF/BDF+ files.
//
// Reading: the header is checked field by field (errors give the byte
// offset of the bad field); records are read one at a time into one
// reused buffer, so memory is bounded by the record size. Signals may
// have different rates: frames are emitted at every instant where any
// signal has a sample, with NaN (pipeline.NoSample) for the signals that
// have none there. Instants within a record are exact: sample j of a
// signal with n samples per record of duration D lies at j·D/n.
//
// Times are the header's start plus the record's onset. In EDF+/BDF+
// files the onset is the first TAL of each record's annotation signal (so
// EDF+D gaps and sub-second starts come out right); in plain EDF it is
// record index × duration. A record whose onset goes backwards is skipped
// as malformed. The header's clock is read as UTC. Two-digit years 85–99
// are 19yy, 00–84 20yy (time.Parse's "06" differs); an EDF+ recording
// field "Startdate dd-MMM-yyyy" supplies the full year.
//
// Values: physical = (digital − dmin)·(pmax − pmin)/(dmax − dmin) + pmin,
// then converted to the canonical unit of the channel's kind. A signal is
// EMG when its label or transducer mentions EMG and its physical
// dimension is a voltage (uV, mV, V); an accelerometer axis when its
// label or transducer mentions ACC/accel or its dimension is g, mg or
// m/s²; KindOther otherwise, in its own unit. decode.Options.Map
// overrides this by lower-cased label (a mapping's scale and offset apply
// to the physical value). Accelerometer labels ending in
// X, Y or Z (after a space, '_' or '-', or directly) get that axis and
// share a group named by the rest of the label.
//
// Limits: at most MaxSignals (512) signals, of which at most MaxChannels
// (256) data signals, and at most MaxRecordSamples (1 Mi) samples per
// record; a header past them is refused with the byte offset of the field
// before any record buffer is allocated.
//
// Annotations (EDF+/BDF+) are collected as records are read: see
// Reader.Annotations.
//
// Truncation: a file whose last record is cut short ends with that record
// skipped and counted (an error in strict mode), the message naming the
// byte offset; a header that promises more records than the file holds
// ends the same way.
package edf

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/pipeline"
)

// Size limits, so that a corrupt or hostile header cannot make the reader
// allocate without bound: a header past them is refused, with its byte
// offset, before anything is allocated for the records.
const (
	// MaxSignals bounds the signals, annotation signals included, so the
	// header is at most 256 × (MaxSignals + 1) bytes (about 128 KiB).
	MaxSignals = 512
	// MaxChannels bounds the data (non-annotation) signals.
	MaxChannels = decode.MaxChannels
	// MaxRecordSamples bounds the samples in one data record, summed
	// over the signals. The reader holds one record's bytes (2 or 3 per
	// sample), its samples as float64 and their schedule (8 and 24 bytes
	// per sample): at most about 35 MiB. The EDF specification asks for
	// records of at most 61440 bytes (30720 samples); the limit leaves
	// room for writers that put minutes in one record.
	MaxRecordSamples = 1 << 20
)

// FormatName is the name the reader registers under.
const FormatName = "edf"

func init() {
	decode.Register(decode.Format{Name: FormatName, Sniff: Sniff, Open: open})
}

func open(r io.Reader, opts decode.Options) (pipeline.Source, error) { return NewReader(r, opts) }

// Sniff scores head: 50 for an EDF ("0       " then a numeric header
// size at byte 184) or BDF (0xFF "BIOSEMI") header.
func Sniff(head []byte, name string) int {
	if len(head) >= 8 && head[0] == 0xFF && string(head[1:8]) == "BIOSEMI" {
		return 50
	}
	if len(head) >= 192 && string(head[:8]) == "0       " {
		hb := strings.TrimSpace(string(head[184:192]))
		if hb != "" && strings.Trim(hb, "0123456789") == "" {
			return 50
		}
	}
	return 0
}

// Annotation is one EDF+ annotation.
type Annotation struct {
	Onset       int64 // nanoseconds after the header's start time
	Duration    int64 // nanoseconds; 0 when HasDuration is false
	HasDuration bool
	Text        string
}

// member is one signal's sample at one instant of the record schedule.
type member struct {
	ch     int32 // channel index
	sample int32 // index into the channel's decoded samples
}

// instant is one distinct sample time within a record.
type instant struct {
	offset int64 // ns after the record's start
	first  int32 // members[first:last]
	last   int32
}

// Reader is a pipeline.Source reading an EDF/BDF file.
type Reader struct {
	br     *bufio.Reader
	name   string
	strict bool
	hdr    *Header
	meta   pipeline.Meta
	stats  pipeline.SourceStats

	sigCh     []int // channel index per signal, -1 for annotation signals
	annSig    []int // annotation signals
	sigOff    []int // byte offset of each signal within a record
	gain, off []float64
	recBuf    []byte
	values    [][]float64 // decoded samples per channel for the current record
	nan       []float64   // a row of NaN

	sched   []instant
	members []member

	rec      int64 // records read
	offset   int64 // byte offset of the next record
	recStart int64 // Unix ns of the current record
	lastRec  int64 // onset (ns) of the previous record, for order checks
	pos      int   // next instant of the current record
	loaded   bool
	done     bool
	anns     []Annotation
	startNs  int64
	recBytes int
	sprs     []int // samples per record of each channel
}

// NewReader reads the header from r. opts.Name names the file in errors,
// opts.Map overrides channel kinds and units by lower-cased label, and
// opts.Strict makes a bad or cut record an error.
func NewReader(r io.Reader, opts decode.Options) (*Reader, error) {
	name := opts.Name
	if name == "" {
		name = "edf"
	}
	br := bufio.NewReaderSize(r, 64<<10)
	h, err := readHeader(br, name)
	if err != nil {
		return nil, err
	}
	d := &Reader{br: br, name: name, strict: opts.Strict, hdr: h, offset: int64(h.HeaderBytes),
		startNs: h.Start.UnixNano(), lastRec: math.MinInt64}
	if err := d.setup(opts); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Reader) setup(opts decode.Options) error {
	h := d.hdr
	size := h.sampleSize()
	total := 0 // samples per record, checked as it grows so it cannot overflow on 32-bit int
	for _, s := range h.Signals {
		total += s.SamplesPerRecord
		if total > MaxRecordSamples {
			return headerError(d.name, 256+216*int64(len(h.Signals)),
				"records of more than %d samples (the signals' samples per record add up past edf.MaxRecordSamples)", MaxRecordSamples)
		}
	}
	recBytes := 0
	var chans []pipeline.Channel
	var sprs []int
	for i, s := range h.Signals {
		d.sigOff = append(d.sigOff, recBytes)
		recBytes += s.SamplesPerRecord * size
		if s.IsAnnotations() {
			d.sigCh = append(d.sigCh, -1)
			d.annSig = append(d.annSig, i)
			continue
		}
		d.sigCh = append(d.sigCh, len(chans))
		ch, scale, offset, err := channelFor(s, h.RecordDuration, opts.Map)
		if err != nil {
			return headerError(d.name, 256, "signal %d (%s): %v", i+1, s.Label, err)
		}
		g := (s.PhysMax - s.PhysMin) / float64(s.DigMax-s.DigMin)
		d.gain = append(d.gain, g*scale)
		d.off = append(d.off, (s.PhysMin-float64(s.DigMin)*g)*scale+offset)
		chans = append(chans, ch)
		sprs = append(sprs, s.SamplesPerRecord)
	}
	if len(chans) == 0 {
		return headerError(d.name, 252, "no data signals (only annotations)")
	}
	if h.RecordDuration <= 0 {
		return headerError(d.name, 244, "record duration is zero but the file has data signals")
	}
	if recBytes == 0 {
		return headerError(d.name, 256, "records are empty (every signal has 0 samples per record)")
	}
	if len(chans) > MaxChannels {
		return headerError(d.name, 252, "%d data signals, more than the %d channels this reader takes (edf.MaxChannels)", len(chans), MaxChannels)
	}
	if d.hdr.Plus() && len(d.annSig) == 0 {
		return headerError(d.name, 192, "%s file has no annotation signal", d.hdr.Reserved)
	}
	groupAxes(chans)
	d.recBytes, d.sprs = recBytes, sprs
	d.meta = pipeline.Meta{File: d.name, Format: FormatName, Channels: chans}
	return nil
}

// prepare allocates the record buffers and the schedule, once, when the
// first record is read (so a corrupt header costs nothing up front).
func (d *Reader) prepare() {
	d.recBuf = make([]byte, d.recBytes)
	d.values = make([][]float64, len(d.sprs))
	for i, n := range d.sprs {
		d.values[i] = make([]float64, n)
	}
	d.nan = make([]float64, len(d.sprs))
	for i := range d.nan {
		d.nan[i] = pipeline.NoSample
	}
	d.schedule(d.sprs)
}

// schedule merges the sample instants of all channels within one record:
// sample j of a channel with n samples per record lies at j/n of it.
// Channels are grouped by n, so the merge costs O(instants × distinct n).
func (d *Reader) schedule(sprs []int) {
	var rates []int64   // distinct samples per record
	var chans [][]int32 // channels of each
	for ch, n := range sprs {
		k := -1
		for i, r := range rates {
			if r == int64(n) {
				k = i
			}
		}
		if k < 0 {
			rates = append(rates, int64(n))
			chans = append(chans, nil)
			k = len(rates) - 1
		}
		chans[k] = append(chans[k], int32(ch))
	}
	// Every sample is one member and at most one instant: sized once, so
	// that a large record costs no growth garbage.
	total := 0
	for _, n := range sprs {
		total += n
	}
	d.members = make([]member, 0, total)
	d.sched = make([]instant, 0, total)
	cur := make([]int64, len(rates))
	dur := d.hdr.RecordDuration
	for {
		// Find the earliest next sample: compare j1/n1 with j2/n2 exactly.
		best := -1
		for i, n := range rates {
			if cur[i] < n && (best < 0 || cur[i]*rates[best] < cur[best]*n) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		in := instant{offset: mulDiv(cur[best], dur, rates[best]), first: int32(len(d.members))}
		jb, nb := cur[best], rates[best]
		for i, n := range rates {
			if cur[i] < n && cur[i]*nb == jb*n {
				for _, ch := range chans[i] {
					d.members = append(d.members, member{ch: ch, sample: int32(cur[i])})
				}
				cur[i]++
			}
		}
		in.last = int32(len(d.members))
		d.sched = append(d.sched, in)
	}
}

// mulDiv returns a*b/c without overflow for the sizes found here.
func mulDiv(a, b, c int64) int64 {
	q, r := b/c, b%c
	return a*q + a*r/c
}

// channelFor picks kind and unit for a signal, and the linear
// conversion of its physical value to the canonical unit (value·scale +
// offset).
func channelFor(s SignalHeader, dur int64, m map[string]decode.Mapping) (pipeline.Channel, float64, float64, error) {
	rate := 0.0
	if dur > 0 {
		rate = float64(s.SamplesPerRecord) * 1e9 / float64(dur)
	}
	ch := pipeline.Channel{Name: s.Label, RateHz: rate, SourceUnit: s.PhysDim}
	lab := strings.ToLower(s.Label + " " + s.Transducer)
	unit := strings.TrimSpace(s.PhysDim)
	u := strings.ToLower(unit)
	voltage := u == "uv" || u == "µv" || u == "μv" || u == "mv" || u == "v"
	accUnit := u == "g" || u == "mg" || u == "m/s2" || u == "m/s^2" || u == "m/s²"
	switch {
	case strings.Contains(lab, "emg") && voltage:
		ch.Kind = pipeline.KindEMG
	case (strings.Contains(lab, "acc") && (accUnit || u == "")) || accUnit:
		ch.Kind = pipeline.KindAcc
	}
	mp := decode.Mapping{Kind: ch.Kind, Unit: unit}
	if o, ok := m[strings.ToLower(s.Label)]; ok {
		mp.Kind, mp.Scale, mp.Offset = o.Kind, o.Scale, o.Offset
		if o.Unit != "" {
			mp.Unit = o.Unit
		}
		ch.Kind = o.Kind
	}
	scale, offset, err := mp.Linear()
	if err != nil {
		return ch, 0, 0, err
	}
	ch.Unit = decode.CanonicalUnit(ch.Kind)
	if ch.Kind == pipeline.KindOther {
		ch.Unit = s.PhysDim
	}
	return ch, scale, offset, nil
}

// groupAxes assigns Axis and Group to accelerometer channels whose labels
// end in X, Y or Z.
func groupAxes(chans []pipeline.Channel) {
	for i := range chans {
		c := &chans[i]
		if c.Kind != pipeline.KindAcc {
			continue
		}
		l := strings.TrimSpace(c.Name)
		if l == "" {
			continue
		}
		last := l[len(l)-1] | 0x20
		if last != 'x' && last != 'y' && last != 'z' || len(l) < 2 {
			c.Group = l
			continue
		}
		c.Axis = last
		c.Group = strings.TrimRight(l[:len(l)-1], " _-.")
		if c.Group == "" {
			c.Group = "acc"
		}
	}
}

// Header returns the file's header.
func (d *Reader) Header() *Header { return d.hdr }

// Meta implements pipeline.Source.
func (d *Reader) Meta() pipeline.Meta { return d.meta }

// Stats implements pipeline.Source.
func (d *Reader) Stats() pipeline.SourceStats { return d.stats }

// Annotations returns the annotations of the records read so far, the
// records' timekeeping TALs excluded.
func (d *Reader) Annotations() []Annotation { return d.anns }

// Next implements pipeline.Source.
func (d *Reader) Next(ctx context.Context, b *pipeline.Batch) error {
	b.Reset()
	for !b.Full() {
		if !d.loaded {
			if d.done {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := d.load(); err != nil {
				if b.Len() > 0 && errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			continue
		}
		in := d.sched[d.pos]
		v := b.Append(d.recStart + in.offset)
		copy(v, d.nan)
		for _, m := range d.members[in.first:in.last] {
			v[m.ch] = d.values[m.ch][m.sample]
		}
		d.stats.Frames++
		d.pos++
		if d.pos == len(d.sched) {
			d.loaded = false
		}
	}
	if b.Len() == 0 && d.done {
		return io.EOF
	}
	return nil
}

// load reads and decodes the next good record; it returns io.EOF at the
// end, or the error that ends reading.
func (d *Reader) load() error {
	for {
		if d.hdr.Records >= 0 && d.rec >= d.hdr.Records {
			d.done = true
			return io.EOF
		}
		if d.recBuf == nil {
			d.prepare()
		}
		at := d.offset
		n, err := io.ReadFull(d.br, d.recBuf)
		d.offset += int64(n)
		if err != nil {
			d.done = true
			if errors.Is(err, io.EOF) && d.hdr.Records < 0 {
				return io.EOF
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				reason := fmt.Sprintf("record %d cut short: %d of %d bytes", d.rec+1, n, len(d.recBuf))
				if n == 0 {
					reason = fmt.Sprintf("file ends after %d of the %d records the header promises", d.rec, d.hdr.Records)
				}
				if e := d.bad(at, reason); e != nil {
					return e
				}
				return io.EOF
			}
			return fmt.Errorf("%s: byte %d: %w", d.name, at, err)
		}
		rec := d.rec
		d.rec++
		onset := rec * d.hdr.RecordDuration
		if len(d.annSig) > 0 {
			o, ok, reason := d.annotations(at)
			if reason != "" {
				if e := d.bad(at, reason); e != nil {
					return e
				}
				continue
			}
			if ok {
				onset = o
			}
		}
		if onset < d.lastRec+d.hdr.RecordDuration && d.lastRec != math.MinInt64 {
			if onset < d.lastRec+d.hdr.RecordDuration-1 { // allow rounding of the TAL
				if e := d.bad(at, fmt.Sprintf("record %d starts at %+.6f s, before the previous record ends", rec+1, float64(onset)/1e9)); e != nil {
					return e
				}
				continue
			}
		}
		d.lastRec = onset
		d.recStart = d.startNs + onset
		d.decode()
		d.pos, d.loaded = 0, len(d.sched) > 0
		return nil
	}
}

// bad skips and counts the record at byte offset off, or in strict mode
// returns it as the error.
func (d *Reader) bad(off int64, reason string) error {
	return decode.Skip(&d.stats, d.strict, &pipeline.LineError{File: d.name, Offset: off, Reason: reason})
}

// decode converts every data sample of the record to physical units.
func (d *Reader) decode() {
	bdf := d.hdr.BDF
	for si, ch := range d.sigCh {
		if ch < 0 {
			continue
		}
		dst := d.values[ch]
		g, o := d.gain[ch], d.off[ch]
		p := d.recBuf[d.sigOff[si]:]
		if bdf {
			for j := range dst {
				raw := int32(uint32(p[3*j]) | uint32(p[3*j+1])<<8 | uint32(p[3*j+2])<<16)
				raw = raw << 8 >> 8
				dst[j] = float64(raw)*g + o
			}
		} else {
			for j := range dst {
				dst[j] = float64(int16(binary.LittleEndian.Uint16(p[2*j:])))*g + o
			}
		}
	}
}

// annotations parses the record's TALs. It returns the record's onset
// (from the first TAL, when there is one) and, for a record whose
// annotation signal is not valid TAL text, a reason to skip it.
func (d *Reader) annotations(at int64) (onset int64, ok bool, reason string) {
	size := d.hdr.sampleSize()
	first := true
	for _, si := range d.annSig {
		n := d.hdr.Signals[si].SamplesPerRecord * size
		p := d.recBuf[d.sigOff[si] : d.sigOff[si]+n]
		for len(p) > 0 {
			if p[0] == 0 { // padding between or after TALs
				p = p[1:]
				continue
			}
			end := bytes.IndexByte(p, 0)
			if end < 0 {
				return 0, false, fmt.Sprintf("record %d: annotation TAL not ended by a NUL byte", d.rec)
			}
			tal := p[:end]
			p = p[end+1:]
			o, dur, hasDur, texts, good := parseTAL(tal)
			if !good {
				return 0, false, fmt.Sprintf("record %d: bad annotation TAL %q", d.rec, truncate(tal))
			}
			if first {
				first = false
				onset, ok = o, true
			}
			// texts is "text\x14text\x14..."; empty texts (the timekeeping
			// TAL's) are not annotations.
			for len(texts) > 0 {
				i := bytes.IndexByte(texts, 0x14)
				if i < 0 {
					i = len(texts)
				}
				if i > 0 {
					d.anns = append(d.anns, Annotation{Onset: o, Duration: dur, HasDuration: hasDur, Text: string(texts[:i])})
				}
				if i == len(texts) {
					break
				}
				texts = texts[i+1:]
			}
		}
	}
	return onset, ok, ""
}

func truncate(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// parseTAL reads "+onset[\x15duration]\x14text\x14...\x14"; texts is
// what follows the first \x14.
func parseTAL(tal []byte) (onset, dur int64, hasDur bool, texts []byte, ok bool) {
	i := bytes.IndexByte(tal, 0x14)
	if i < 0 || len(tal) == 0 || (tal[0] != '+' && tal[0] != '-') {
		return 0, 0, false, nil, false
	}
	head := tal[:i]
	if j := bytes.IndexByte(head, 0x15); j >= 0 {
		if dur, ok = decimalNs(head[j+1:]); !ok || dur < 0 {
			return 0, 0, false, nil, false
		}
		hasDur = true
		head = head[:j]
	}
	if onset, ok = decimalNs(head); !ok {
		return 0, 0, false, nil, false
	}
	return onset, dur, hasDur, tal[i+1:], true
}
