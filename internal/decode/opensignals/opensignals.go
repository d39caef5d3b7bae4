// Package opensignals decodes OpenSignals text files written for PLUX
// devices (biosignalsplux, bioplux, channeller, ...) and BITalino.
//
// Layout: line 1 "# OpenSignals Text File Format", line 2 "# " and a JSON
// object keyed by device MAC address ("sampling rate", "resolution",
// "column", "label", "sensor", "date", "time", "device", ...), line 3
// "# EndOfHeader", then one tab-separated row of integers per sample
// (often with a trailing tab). With several devices the JSON has one key
// per device and each row holds the columns of every device, in the order
// of the keys; all devices must share one sampling rate.
//
// Columns: "nSeq" is the sequence number (used to count lost samples:
// BITalino's wraps at 16); digital columns (DI, I1, I2, O1, O2) are
// dropped; every analog column becomes a channel named by its label
// ("A1", "PORT4_CHN1"; prefixed with the MAC when the file has several
// devices). Raw ADC values are converted with the makers' transfer
// functions, n being the channel's resolution in bits:
//
//	PLUX EMG       mV = ADC·3.0/2^n − 1.5
//	BITalino EMG   mV = (ADC/2^n − 0.5)·3.3/G·1000, G = 1009 (1008 for
//	               the original board, device "bitalino")
//	PLUX ACC       g = 2·(ADC·2^(16−n) − Cmin)/(Cmax − Cmin) − 1,
//	               Cmin 28000, Cmax 38000 (16-bit units; biosignalsnotebooks)
//	BITalino ACC   g = 2·(ADC − Cmin)/(Cmax − Cmin) − 1, Cmin 400,
//	               Cmax 608 at 10 bits, scaled by 2^(n−10) (typical values;
//	               every sensor differs, so calibrate: Config.ACC)
//
// A sensor whose name contains "EMG" is EMG; one containing "ACC" (ACC,
// cACC, ACCBITREV) or "XYZ" is an accelerometer axis, the first three of a
// device being x, y and z of group "acc". Others are KindOther and carry
// the raw ADC value (unit "adc").
//
// Times: the header's date and time (the recording computer's local
// clock, read as UTC) plus k/rate, where k counts samples including those
// lost according to nSeq.
//
// Limits: the JSON header line may be up to MaxHeaderLine (1 MiB) long,
// other lines up to 64 KiB; the header may list up to MaxColumns (1024)
// columns in all, of which up to MaxChannels (256) analog ones. A header
// past these is refused with an error naming the file and line; an
// over-long data line is malformed.
package opensignals

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/decode/textline"
	"github.com/twitchd/twitchd/pipeline"
)

// Size limits. A header past them is refused with an error naming the
// file and line: the JSON header line may hold up to MaxHeaderLine bytes
// (other lines up to textline.BufferSize, 64 KiB; a longer data line is
// malformed), the devices together up to MaxColumns columns (and each
// up to MaxColumns labels, sensors and resolutions), of which up to
// MaxChannels analog ones become channels.
const (
	MaxHeaderLine = 1 << 20
	MaxColumns    = decode.MaxColumns
	MaxChannels   = decode.MaxChannels
)

// FormatName is the name the decoder registers under.
const FormatName = "opensignals"

const magic = "# OpenSignals Text File Format"

func init() {
	decode.Register(decode.Format{Name: FormatName, Sniff: Sniff, Open: open})
}

func open(r io.Reader, opts decode.Options) (pipeline.Source, error) {
	return New(r, opts, Config{})
}

// Sniff scores head: 50 when it starts with the OpenSignals banner.
func Sniff(head []byte, name string) int {
	if textline.HasBanner(head, magic) {
		return 50
	}
	return 0
}

// Calibration is an accelerometer's raw reading at −1 g (Cmin) and +1 g
// (Cmax), in the file's raw units.
type Calibration struct {
	Cmin, Cmax float64
}

// Config overrides the default conversions.
type Config struct {
	// ACC, when non-nil, calibrates every accelerometer channel instead
	// of the per-device defaults in the package doc.
	ACC *Calibration
}

// Device is one device's part of the header.
type Device struct {
	MAC        string    // JSON key
	Device     string    // "device", e.g. "channeller", "bitalino_rev"
	RateHz     float64   // "sampling rate"
	Columns    []string  // "column"
	Labels     []string  // "label"
	Sensors    []string  // "sensor"
	Resolution []int     // "resolution", per column or per label
	Start      time.Time // "date" + "time", read as UTC
}

// IsBITalino reports whether the device is a BITalino board.
func (d Device) IsBITalino() bool { return strings.HasPrefix(strings.ToLower(d.Device), "bitalino") }

type deviceJSON struct {
	Device     string   `json:"device"`
	Rate       float64  `json:"sampling rate"`
	Columns    []string `json:"column"`
	Labels     []string `json:"label"`
	Sensors    []string `json:"sensor"`
	Resolution []int    `json:"resolution"`
	Date       string   `json:"date"`
	Time       string   `json:"time"`
}

// conv converts one raw column: v = raw*scale + offset.
type conv struct {
	col           int // column in the row
	scale, offset float64
}

// Decoder is a pipeline.Source reading an OpenSignals text file.
type Decoder struct {
	in      *textline.Reader // lines, line numbers, skipped-line counts
	name    string
	devices []Device
	meta    pipeline.Meta

	ncol   int
	convs  []conv
	seqCol int // nSeq of the first device, -1 when none
	seqMod int64
	rate   float64
	t0     int64
	k      int64
	prev   int64
	have   bool
	raw    []int64
}

// New reads the header from r. opts.Name names the file in errors.
func New(r io.Reader, opts decode.Options, cfg Config) (*Decoder, error) {
	name := opts.Name
	if name == "" {
		name = "opensignals"
	}
	d := &Decoder{in: textline.NewReader(r, name, opts.Strict), name: name, seqCol: -1}
	if err := d.readHeader(cfg); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Decoder) readHeader(cfg Config) error {
	l1, err := d.in.Next()
	if err != nil || !bytes.HasPrefix(bytes.TrimPrefix(l1, []byte("\xef\xbb\xbf")), []byte(magic)) {
		return d.in.Errorf("not an OpenSignals text file: first line is not %q", magic)
	}
	l2, err := d.in.NextLong(MaxHeaderLine)
	if errors.Is(err, textline.ErrTooLong) {
		return d.in.Errorf("JSON header line longer than %d bytes (opensignals.MaxHeaderLine)", MaxHeaderLine)
	}
	if err != nil {
		return d.in.Errorf("file ends before the JSON header line")
	}
	js, ok := bytes.CutPrefix(l2, []byte("#"))
	if !ok {
		return d.in.Errorf("second line does not start with '#'")
	}
	if err := d.parseJSON(js); err != nil {
		return err
	}
	if err := d.build(cfg); err != nil { // errors name the JSON line
		return err
	}
	l3, err := d.in.Next()
	if err != nil || !bytes.HasPrefix(l3, []byte("# EndOfHeader")) {
		return d.in.Errorf("third line is not \"# EndOfHeader\"")
	}
	return nil
}

// parseJSON reads the device objects in the order of their keys.
func (d *Decoder) parseJSON(js []byte) error {
	dec := json.NewDecoder(bytes.NewReader(js))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return d.in.Errorf("header JSON is not an object")
	}
	ncol := 0 // columns of all devices so far
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return d.in.Errorf("header JSON: %v", err)
		}
		mac, _ := tok.(string)
		var dj deviceJSON
		if err := dec.Decode(&dj); err != nil {
			return d.in.Errorf("header JSON for device %q: %v", mac, err)
		}
		dev := Device{MAC: mac, Device: dj.Device, RateHz: dj.Rate, Columns: dj.Columns, Labels: dj.Labels,
			Sensors: dj.Sensors, Resolution: dj.Resolution}
		if !(dev.RateHz > 0 && dev.RateHz < 1e6) {
			return d.in.Errorf("device %s: bad sampling rate %v", mac, dj.Rate)
		}
		if len(dev.Columns) == 0 {
			return d.in.Errorf("device %s: no columns", mac)
		}
		ncol += len(dev.Columns)
		if n := max(ncol, len(dev.Labels), len(dev.Sensors), len(dev.Resolution)); n > MaxColumns {
			return d.in.Errorf("device %s: header lists %d columns, labels or sensors, more than the %d this decoder reads (opensignals.MaxColumns)", mac, n, MaxColumns)
		}
		st, err := parseStart(dj.Date, dj.Time)
		if err != nil {
			return d.in.Errorf("device %s: %v", mac, err)
		}
		dev.Start = st
		d.devices = append(d.devices, dev)
	}
	if len(d.devices) == 0 {
		return d.in.Errorf("header JSON names no device")
	}
	return nil
}

// parseStart reads "2017-1-20" and "11:23:41.963".
func parseStart(date, clock string) (time.Time, error) {
	p := strings.Split(date, "-")
	c := strings.Split(clock, ":")
	if len(p) != 3 || len(c) != 3 {
		return time.Time{}, fmt.Errorf("bad date/time %q %q", date, clock)
	}
	y, e1 := strconv.Atoi(p[0])
	mo, e2 := strconv.Atoi(p[1])
	dd, e3 := strconv.Atoi(p[2])
	h, e4 := strconv.Atoi(c[0])
	mi, e5 := strconv.Atoi(c[1])
	s, e6 := strconv.ParseFloat(c[2], 64)
	if err := errors.Join(e1, e2, e3, e4, e5, e6); err != nil || mo < 1 || mo > 12 || dd < 1 || dd > 31 || h > 23 || mi > 59 || !(s >= 0 && s < 61) {
		return time.Time{}, fmt.Errorf("bad date/time %q %q", date, clock)
	}
	return time.Date(y, time.Month(mo), dd, h, mi, 0, 0, time.UTC).Add(time.Duration(math.Round(s * 1e9))), nil
}

func isDigital(c string) bool {
	switch c {
	case "DI", "DO", "I1", "I2", "O1", "O2":
		return true
	}
	return false
}

// build lays out channels and conversions.
func (d *Decoder) build(cfg Config) error {
	d.rate = d.devices[0].RateHz
	d.t0 = d.devices[0].Start.UnixNano()
	multi := len(d.devices) > 1
	var chans []pipeline.Channel
	base := 0
	for di, dev := range d.devices {
		if dev.RateHz != d.rate {
			return d.in.Errorf("devices %s and %s sample at %v and %v Hz: files mixing rates are not supported",
				d.devices[0].MAC, dev.MAC, d.rate, dev.RateHz)
		}
		accN := 0
		for ci, col := range dev.Columns {
			switch {
			case col == "nSeq":
				if di == 0 {
					d.seqCol = base + ci
				}
				continue
			case isDigital(col):
				continue
			}
			li := indexOf(dev.Labels, col)
			sensor := ""
			if li >= 0 && li < len(dev.Sensors) {
				sensor = dev.Sensors[li]
			}
			bits := 0
			switch {
			case len(dev.Resolution) == len(dev.Columns):
				bits = dev.Resolution[ci]
			case li >= 0 && li < len(dev.Resolution):
				bits = dev.Resolution[li]
			}
			if bits < 1 || bits > 24 {
				return d.in.Errorf("device %s column %s: no valid resolution (%d bits)", dev.MAC, col, bits)
			}
			name := col
			if multi {
				name = dev.MAC + " " + col
			}
			ch, cv := channelFor(dev, sensor, bits, cfg)
			ch.Name = name
			ch.RateHz = d.rate
			if ch.Kind == pipeline.KindAcc {
				ch.Group = "acc"
				if accN >= 3 {
					ch.Group = fmt.Sprintf("acc%d", accN/3+1)
				}
				if multi {
					ch.Group = dev.MAC + " " + ch.Group
				}
				ch.Axis = "xyz"[accN%3]
				accN++
			}
			cv.col = base + ci
			chans = append(chans, ch)
			d.convs = append(d.convs, cv)
		}
		base += len(dev.Columns)
	}
	if len(chans) == 0 {
		return d.in.Errorf("no analog columns")
	}
	if len(chans) > MaxChannels {
		return d.in.Errorf("%d analog columns, more than the %d channels this decoder reads (opensignals.MaxChannels)", len(chans), MaxChannels)
	}
	d.ncol = base
	d.seqMod = 0
	if d.devices[0].IsBITalino() {
		d.seqMod = 16
	}
	d.raw = make([]int64, d.ncol)
	d.meta = pipeline.Meta{File: d.name, Format: FormatName, Channels: chans}
	return nil
}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}

// channelFor picks the kind and the transfer function.
func channelFor(dev Device, sensor string, bits int, cfg Config) (pipeline.Channel, conv) {
	s := strings.ToUpper(sensor)
	full := math.Exp2(float64(bits))
	bit := dev.IsBITalino()
	switch {
	case strings.Contains(s, "EMG"):
		ch := pipeline.Channel{Kind: pipeline.KindEMG, Unit: "mV", SourceUnit: "adc"}
		if bit {
			g := 1009.0
			if strings.EqualFold(dev.Device, "bitalino") {
				g = 1008
			}
			k := 3.3 / g * 1000
			return ch, conv{scale: k / full, offset: -0.5 * k}
		}
		return ch, conv{scale: 3.0 / full, offset: -1.5}
	case strings.Contains(s, "ACC") || strings.Contains(s, "XYZ"):
		ch := pipeline.Channel{Kind: pipeline.KindAcc, Unit: "g", SourceUnit: "adc"}
		var c Calibration
		switch {
		case cfg.ACC != nil:
			c = *cfg.ACC
		case bit:
			f := math.Exp2(float64(bits - 10))
			c = Calibration{400 * f, 608 * f}
		default:
			f := math.Exp2(float64(bits - 16))
			c = Calibration{28000 * f, 38000 * f}
		}
		span := c.Cmax - c.Cmin
		if span == 0 {
			span = 1
		}
		return ch, conv{scale: 2 / span, offset: -2*c.Cmin/span - 1}
	}
	return pipeline.Channel{Kind: pipeline.KindOther, Unit: "adc", SourceUnit: "adc"}, conv{scale: 1}
}

// Devices returns the header of each device in the file.
func (d *Decoder) Devices() []Device { return d.devices }

// Meta implements pipeline.Source.
func (d *Decoder) Meta() pipeline.Meta { return d.meta }

// Stats implements pipeline.Source.
func (d *Decoder) Stats() pipeline.SourceStats { return d.in.Stats }

// Next implements pipeline.Source; lines starting with # are comments.
func (d *Decoder) Next(ctx context.Context, b *pipeline.Batch) error {
	return d.in.Fill(ctx, b, '#', d.row)
}

// row parses the integers of one line.
func (d *Decoder) row(b *pipeline.Batch, line []byte) string {
	n := 0
	i := 0
	for i < len(line) {
		for i < len(line) && (line[i] == '\t' || line[i] == ' ' || line[i] == '\r') {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		neg := false
		if line[j] == '-' {
			neg = true
			j++
		}
		var v int64
		k := j
		for k < len(line) && line[k] >= '0' && line[k] <= '9' && k-j < 18 {
			v = v*10 + int64(line[k]-'0')
			k++
		}
		if k == j || (k < len(line) && line[k] != '\t' && line[k] != ' ' && line[k] != '\r') {
			d.advanceBad()
			return fmt.Sprintf("column %d: %q is not an integer", n+1, field(line[i:]))
		}
		if n == len(d.raw) {
			d.advanceBad()
			return fmt.Sprintf("more than %d columns", d.ncol)
		}
		if neg {
			v = -v
		}
		d.raw[n] = v
		n++
		i = k
	}
	if n != d.ncol {
		d.advanceBad()
		return fmt.Sprintf("%d columns, want %d", n, d.ncol)
	}
	d.advance()
	t := d.t0 + int64(math.Round(float64(d.k)*1e9/d.rate))
	out := b.Append(t)
	for ci, c := range d.convs {
		out[ci] = float64(d.raw[c.col])*c.scale + c.offset
	}
	d.in.Stats.Frames++
	return ""
}

func field(b []byte) []byte {
	if i := bytes.IndexAny(b, "\t "); i >= 0 {
		return b[:i]
	}
	return b
}

// advance moves the sample count by the nSeq step of the current row.
func (d *Decoder) advance() {
	if d.seqCol < 0 {
		if d.have {
			d.k++
		}
		d.have = true
		return
	}
	seq := d.raw[d.seqCol]
	if !d.have {
		d.prev, d.have = seq, true
		return
	}
	step := seq - d.prev
	if d.seqMod > 0 {
		step = ((step % d.seqMod) + d.seqMod) % d.seqMod
		if step == 0 {
			step = 1 // a repeat, or a whole cycle lost: claim no loss
		}
	}
	if step < 1 {
		step = 1 // counter reset or wrap of an unknown width
	}
	if step > 1 {
		d.in.Stats.Lost += step - 1
	}
	d.k += step
	d.prev = seq
}

// advanceBad keeps time for a bad row: it held one sample slot.
func (d *Decoder) advanceBad() {
	if d.have {
		d.k++
		d.prev++
	}
}
