package edf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/pipeline"
)

// WriterSignal describes one signal to write.
type WriterSignal struct {
	Label      string        // at most 16 characters
	Kind       pipeline.Kind // EMG and ACC signals must have a unit decode.Scale knows
	Unit       string        // physical dimension of the values given to Write, e.g. "mV", "g"
	RateHz     float64       // RateHz × RecordDuration must be a whole number of samples
	PhysMin    float64       // physical range, in Unit
	PhysMax    float64
	DigMin     int // digital range; 0, 0 means −32768, 32767
	DigMax     int
	Transducer string
	Prefilter  string
}

// WriterHeader describes the file to write.
type WriterHeader struct {
	Patient   string // EDF+ patient field; "X X X X" when empty
	Recording string // EDF+ recording field after "Startdate dd-MMM-yyyy"; "X X twitchd" when empty
	// Start is the start of the first record. The header holds whole
	// seconds; a sub-second part goes into the records' TAL onsets, as
	// EDF+ provides.
	Start time.Time
	// RecordDuration is each data record's length; 1 s when zero.
	RecordDuration time.Duration
	Signals        []WriterSignal
	// AnnotationBytes is the room per record for TALs; 60 when zero.
	AnnotationBytes int
}

// Writer writes an EDF+C file, one data record at a time. Frames handed
// to Write carry one value per signal, in the order of
// WriterHeader.Signals, NaN meaning no sample of that signal at that
// instant (as the Reader produces them). A value is placed in the sample
// slot nearest its time; slots no frame filled are written as the digital
// value nearest physical zero. Records without any sample between two
// that have samples are written padded, so the file stays continuous.
//
// Close writes the last, padded record. When w is an io.WriteSeeker it
// then patches the number of records into the header; otherwise the
// header keeps −1 ("unknown"), which EDF allows while recording and which
// Reader handles by reading to the end of the file.
type Writer struct {
	w        io.Writer
	h        WriterHeader
	spr      []int
	dmin     []int
	dmax     []int
	gain     []float64 // digital per physical unit
	zero     []int16
	recDur   int64
	start    int64 // Unix ns of record 0
	hdrStart int64 // Unix ns of the header's start time (whole seconds)
	cur      int64 // index of the record being filled
	buf      [][]int16
	used     bool
	records  int64
	annBytes int
	anns     []byte // extra TALs for the current record
	out      []byte
	closed   bool
	err      error
}

// NewWriter checks h and writes the header to w.
func NewWriter(w io.Writer, h WriterHeader) (*Writer, error) {
	if h.RecordDuration == 0 {
		h.RecordDuration = time.Second
	}
	if h.AnnotationBytes == 0 {
		h.AnnotationBytes = 60
	}
	if h.RecordDuration < time.Millisecond || h.AnnotationBytes%2 != 0 || len(h.Signals) == 0 {
		return nil, errors.New("edf: writer needs signals, a record duration of at least 1 ms and an even AnnotationBytes")
	}
	if len(h.Signals) > MaxChannels {
		return nil, fmt.Errorf("edf: %d signals, more than the %d the reader takes back (edf.MaxChannels)", len(h.Signals), MaxChannels)
	}
	wr := &Writer{w: w, h: h, recDur: int64(h.RecordDuration), annBytes: h.AnnotationBytes}
	for i, s := range h.Signals {
		if _, err := decode.Scale(s.Kind, s.Unit); err != nil {
			return nil, fmt.Errorf("edf: signal %d (%s): %w", i+1, s.Label, err)
		}
	}
	wr.start = h.Start.UnixNano()
	wr.hdrStart = h.Start.Truncate(time.Second).UnixNano()
	if h.Start.IsZero() {
		wr.start, wr.hdrStart = 0, 0
	}
	total := h.AnnotationBytes / 2
	for i, s := range h.Signals {
		n := s.RateHz * h.RecordDuration.Seconds()
		if !(n > 0.5 && n < MaxRecordSamples+0.5) {
			return nil, fmt.Errorf("edf: signal %d (%s): %v Hz × %v is not 1..%d samples per record (edf.MaxRecordSamples)", i+1, s.Label, s.RateHz, h.RecordDuration, MaxRecordSamples)
		}
		spr := int(math.Round(n))
		if math.Abs(n-float64(spr)) > 1e-6 {
			return nil, fmt.Errorf("edf: signal %d (%s): %v Hz × %v is not a whole number of samples", i+1, s.Label, s.RateHz, h.RecordDuration)
		}
		if total += spr; total > MaxRecordSamples {
			return nil, fmt.Errorf("edf: records of more than %d samples: shorten RecordDuration (edf.MaxRecordSamples)", MaxRecordSamples)
		}
		dmin, dmax := s.DigMin, s.DigMax
		if dmin == 0 && dmax == 0 {
			dmin, dmax = -32768, 32767
		}
		if dmin < -32768 || dmax > 32767 || dmax <= dmin || !(s.PhysMax > s.PhysMin) {
			return nil, fmt.Errorf("edf: signal %d (%s): bad physical or digital range", i+1, s.Label)
		}
		g := float64(dmax-dmin) / (s.PhysMax - s.PhysMin)
		wr.spr = append(wr.spr, spr)
		wr.dmin = append(wr.dmin, dmin)
		wr.dmax = append(wr.dmax, dmax)
		wr.gain = append(wr.gain, g)
		wr.buf = append(wr.buf, make([]int16, spr))
	}
	for i := range h.Signals {
		wr.zero = append(wr.zero, wr.digital(i, 0))
	}
	wr.reset()
	hdr, err := wr.header(-1)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(hdr); err != nil {
		return nil, fmt.Errorf("edf: write header: %w", err)
	}
	return wr, nil
}

// digital converts a physical value of signal i, clamping to the range.
func (w *Writer) digital(i int, v float64) int16 {
	s := w.h.Signals[i]
	d := math.Round((v-s.PhysMin)*w.gain[i]) + float64(w.dmin[i])
	if d < float64(w.dmin[i]) {
		d = float64(w.dmin[i])
	}
	if d > float64(w.dmax[i]) {
		d = float64(w.dmax[i])
	}
	return int16(d)
}

func (w *Writer) reset() {
	for i, b := range w.buf {
		for j := range b {
			b[j] = w.zero[i]
		}
	}
	w.used = false
	w.anns = w.anns[:0]
}

// field pads s to n bytes or fails when it does not fit or is not ASCII.
func field(dst []byte, s string, n int) ([]byte, error) {
	if len(s) > n {
		return nil, fmt.Errorf("edf: header field %q longer than %d characters", s, n)
	}
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			return nil, fmt.Errorf("edf: header field %q is not printable ASCII", s)
		}
	}
	dst = append(dst, s...)
	for range n - len(s) {
		dst = append(dst, ' ')
	}
	return dst, nil
}

// num formats v in at most 8 characters.
func num(v float64) (string, error) {
	for prec := 8; prec >= 1; prec-- {
		s := strconv.FormatFloat(v, 'f', prec, 64)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		if len(s) <= 8 {
			if p, _ := strconv.ParseFloat(s, 64); p != 0 || v == 0 || math.Abs(v) >= 1e-7 {
				return s, nil
			}
		}
	}
	return "", fmt.Errorf("edf: %v does not fit in 8 characters", v)
}

func (w *Writer) header(records int64) ([]byte, error) {
	ns := len(w.h.Signals) + 1
	st := time.Unix(0, w.hdrStart).UTC()
	patient := w.h.Patient
	if patient == "" {
		patient = "X X X X"
	}
	rec := w.h.Recording
	if rec == "" {
		rec = "X X twitchd"
	}
	rec = fmt.Sprintf("Startdate %02d-%s-%04d %s", st.Day(), months[st.Month()-1], st.Year(), rec)
	dur, err := num(float64(w.recDur) / 1e9)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 256*(ns+1))
	for _, f := range []struct {
		s string
		n int
	}{
		{"0", 8}, {patient, 80}, {rec, 80},
		{fmt.Sprintf("%02d.%02d.%02d", st.Day(), st.Month(), st.Year()%100), 8},
		{fmt.Sprintf("%02d.%02d.%02d", st.Hour(), st.Minute(), st.Second()), 8},
		{strconv.Itoa(256 * (ns + 1)), 8}, {"EDF+C", 44}, {strconv.FormatInt(records, 10), 8},
		{dur, 8}, {strconv.Itoa(ns), 4},
	} {
		if b, err = field(b, f.s, f.n); err != nil {
			return nil, err
		}
	}
	type col struct {
		n   int
		get func(i int) (string, error)
	}
	sig := func(i int) *WriterSignal {
		if i < len(w.h.Signals) {
			return &w.h.Signals[i]
		}
		return nil
	}
	cols := []col{
		{16, func(i int) (string, error) {
			if s := sig(i); s != nil {
				return s.Label, nil
			}
			return "EDF Annotations", nil
		}},
		{80, func(i int) (string, error) {
			if s := sig(i); s != nil {
				return s.Transducer, nil
			}
			return "", nil
		}},
		{8, func(i int) (string, error) {
			if s := sig(i); s != nil {
				return s.Unit, nil
			}
			return "", nil
		}},
		{8, func(i int) (string, error) {
			if s := sig(i); s != nil {
				return num(s.PhysMin)
			}
			return "-1", nil
		}},
		{8, func(i int) (string, error) {
			if s := sig(i); s != nil {
				return num(s.PhysMax)
			}
			return "1", nil
		}},
		{8, func(i int) (string, error) {
			if i < len(w.dmin) {
				return strconv.Itoa(w.dmin[i]), nil
			}
			return "-32768", nil
		}},
		{8, func(i int) (string, error) {
			if i < len(w.dmax) {
				return strconv.Itoa(w.dmax[i]), nil
			}
			return "32767", nil
		}},
		{80, func(i int) (string, error) {
			if s := sig(i); s != nil {
				return s.Prefilter, nil
			}
			return "", nil
		}},
		{8, func(i int) (string, error) {
			if i < len(w.spr) {
				return strconv.Itoa(w.spr[i]), nil
			}
			return strconv.Itoa(w.annBytes / 2), nil
		}},
		{32, func(int) (string, error) { return "", nil }},
	}
	for _, c := range cols {
		for i := range ns {
			s, err := c.get(i)
			if err != nil {
				return nil, err
			}
			if b, err = field(b, s, c.n); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

// Write places one frame's values in the record its time falls in,
// writing out the records before it. Frames must come in time order.
func (w *Writer) Write(f pipeline.Frame) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("edf: Write after Close")
	}
	if len(f.Values) != len(w.h.Signals) {
		panic("edf: frame has the wrong number of values")
	}
	rel := f.Time - w.start
	if rel < 0 {
		return fmt.Errorf("edf: frame at %v is before the start %v", pipeline.Timestamp(f.Time), pipeline.Timestamp(w.start))
	}
	r := rel / w.recDur
	if r < w.cur {
		return fmt.Errorf("edf: frame at %v is out of order", pipeline.Timestamp(f.Time))
	}
	for r > w.cur {
		if err := w.flush(); err != nil {
			return err
		}
	}
	off := rel - r*w.recDur
	for i, v := range f.Values {
		if v != v {
			continue
		}
		j := int((off*int64(w.spr[i]) + w.recDur/2) / w.recDur)
		if j >= w.spr[i] {
			j = w.spr[i] - 1
		}
		w.buf[i][j] = w.digital(i, v)
	}
	w.used = true
	return nil
}

// Annotate adds an annotation at onset (absolute time) to the record
// being filled. It fails when the record's annotation room is full.
func (w *Writer) Annotate(onset pipeline.Timestamp, duration time.Duration, text string) error {
	if strings.ContainsAny(text, "\x00\x14\x15") {
		return errors.New("edf: annotation text contains a TAL separator")
	}
	tal := "+" + formatSeconds(int64(onset)-w.hdrStart)
	if duration > 0 {
		tal += "\x15" + formatSeconds(int64(duration))
	}
	tal += "\x14" + text + "\x14\x00"
	if len(w.timekeeping())+len(w.anns)+len(tal) > w.annBytes {
		return fmt.Errorf("edf: no room for annotation %q in this record (AnnotationBytes %d)", text, w.annBytes)
	}
	w.anns = append(w.anns, tal...)
	return nil
}

func formatSeconds(ns int64) string {
	s := strconv.FormatInt(ns/1e9, 10)
	if f := ns % 1e9; f != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%09d", f), "0")
	}
	return s
}

// timekeeping is the record's first TAL: its onset after the header's
// start time.
func (w *Writer) timekeeping() string {
	return "+" + formatSeconds(w.start-w.hdrStart+w.cur*w.recDur) + "\x14\x14\x00"
}

// flush writes the current record and moves to the next.
func (w *Writer) flush() error {
	out := w.out[:0]
	for _, b := range w.buf {
		for _, v := range b {
			out = append(out, byte(v), byte(uint16(v)>>8))
		}
	}
	ann := w.timekeeping()
	out = append(out, ann...)
	out = append(out, w.anns...)
	for range w.annBytes - len(ann) - len(w.anns) {
		out = append(out, 0)
	}
	w.out = out
	if _, err := w.w.Write(out); err != nil {
		w.err = fmt.Errorf("edf: write record %d: %w", w.cur+1, err)
		return w.err
	}
	w.records++
	w.cur++
	w.reset()
	return nil
}

// Close writes the last record (padded) and, when the destination can
// seek, patches the record count into the header. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.used || len(w.anns) > 0 || w.records == 0 {
		if err := w.flush(); err != nil {
			return err
		}
	}
	ws, ok := w.w.(io.WriteSeeker)
	if !ok {
		return nil
	}
	end, err := ws.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("edf: patch record count: %w", err)
	}
	cnt, _ := field(nil, strconv.FormatInt(w.records, 10), 8)
	if _, err := ws.Seek(236, io.SeekStart); err != nil {
		return fmt.Errorf("edf: patch record count: %w", err)
	}
	if _, err := ws.Write(cnt); err != nil {
		return fmt.Errorf("edf: patch record count: %w", err)
	}
	if _, err := ws.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("edf: patch record count: %w", err)
	}
	return nil
}
