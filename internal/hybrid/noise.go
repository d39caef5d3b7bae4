package hybrid

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/twitchd/twitchd/internal/dsp"
	"github.com/twitchd/twitchd/internal/realdata"
	"github.com/twitchd/twitchd/pipeline"
)

// Noise is what the measuring pass found in one recording: where it
// starts and how long it lasts, and each channel's noise and quantisation.
type Noise struct {
	// Start is the first sample's time (Unix ns): stretches count from it.
	Start    int64
	Duration time.Duration
	// Channels holds one entry per channel of the stream, in order.
	Channels []ChannelNoise
}

// ChannelNoise is one channel's measured noise.
type ChannelNoise struct {
	pipeline.Channel
	// Sigma is the robust RMS (canonical unit) in the band the detectors
	// look at: 20-450 Hz with 50 and 60 Hz mains combs notched for EMG,
	// 4-25 Hz for an accelerometer axis (upper edges below 0.45 times the
	// rate). It is the median RMS of BlockSeconds blocks over the rest
	// stretches when they hold at least MinRest of the recording, else the
	// 10th percentile over the whole recording. 0: nothing measured.
	Sigma float64
	// FromRest says Sigma was measured over rest stretches.
	FromRest bool
	// Step is the quantisation step: the smallest difference between two
	// successive samples (0 for a channel that never changed). It is a
	// multiple of the true step, and the step itself wherever noise
	// dithers the last bit (every real recording here).
	Step float64
	// Samples counts the channel's samples.
	Samples int64
}

// Measuring constants.
const (
	// BlockSeconds is the length of a block whose RMS is one noise
	// observation (at least BlockMinSamples samples).
	BlockSeconds    = 0.1
	BlockMinSamples = 10
	// Settle is skipped at the start while the filters settle.
	Settle = time.Second
	// MinRest is the least rest that Sigma is measured over.
	MinRest = 10 * time.Second
)

// channelMeter measures one channel.
type channelMeter struct {
	f            *dsp.SOS
	block        int // samples per block
	sum          float64
	n            int
	rest, all    logHist
	prev         float64
	havePrev     bool
	step         float64
	samples      int64
	restObserved bool
}

// newMeter builds the band-pass (and mains combs for EMG) of a channel;
// nil for a channel that is not analysed or has no rate.
func newMeter(c pipeline.Channel) (*channelMeter, error) {
	fs := c.RateHz
	if c.Kind == pipeline.KindOther || !(fs > 0) {
		return nil, nil
	}
	lo, hi := 4.0, math.Min(25, 0.45*fs)
	if c.Kind == pipeline.KindEMG {
		lo, hi = 20, math.Min(450, 0.45*fs)
	}
	if !(hi > lo) {
		return nil, nil // too slow for the band: nothing to inject into
	}
	f, err := dsp.ButterBandpass(2, lo, hi, fs)
	if err != nil {
		return nil, fmt.Errorf("hybrid: channel %s: %w", c.Name, err)
	}
	if c.Kind == pipeline.KindEMG {
		for _, mains := range []float64{50, 60} {
			if mains < 0.475*fs {
				comb, err := dsp.CombNotch(mains, 5, 30, fs)
				if err != nil {
					return nil, fmt.Errorf("hybrid: channel %s: %w", c.Name, err)
				}
				f = dsp.Cascade(f, comb)
			}
		}
	}
	return &channelMeter{f: f, block: max(BlockMinSamples, int(math.Round(BlockSeconds*fs)))}, nil
}

// observe takes one sample at offset since the first sample.
func (m *channelMeter) observe(v float64, since time.Duration, rest bool) {
	m.samples++
	if m.havePrev {
		if d := math.Abs(v - m.prev); d > 0 && (m.step == 0 || d < m.step) {
			m.step = d
		}
	}
	m.prev, m.havePrev = v, true
	y := m.f.Step(v)
	if since < Settle {
		return
	}
	m.sum += y * y
	m.n++
	if m.n < m.block {
		return
	}
	r := math.Sqrt(m.sum / float64(m.n))
	m.all.add(r)
	if rest {
		m.rest.add(r)
	}
	m.sum, m.n = 0, 0
}

// Measure reads src to its end and measures every channel's noise,
// using rec's stretches to tell rest from activity.
func Measure(ctx context.Context, src pipeline.Source, rec realdata.Recording) (Noise, error) {
	meta := src.Meta()
	meters := make([]*channelMeter, len(meta.Channels))
	for i, c := range meta.Channels {
		m, err := newMeter(c)
		if err != nil {
			return Noise{}, err
		}
		meters[i] = m
	}
	nz := Noise{Start: -1}
	var last int64
	b := pipeline.NewBatch(len(meta.Channels), 1024)
	for {
		err := src.Next(ctx, b)
		for _, fr := range b.Frames {
			if nz.Start < 0 {
				nz.Start = fr.Time
			}
			last = fr.Time
			since := time.Duration(fr.Time - nz.Start)
			rest := !rec.ActiveAt(since)
			for i, v := range fr.Values {
				if m := meters[i]; m != nil && !pipeline.IsNoSample(v) {
					m.observe(v, since, rest)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Noise{}, fmt.Errorf("hybrid: measuring %s: %w", rec.Path, err)
		}
	}
	if nz.Start < 0 {
		return Noise{}, fmt.Errorf("hybrid: %s holds no sample", rec.Path)
	}
	nz.Duration = time.Duration(last - nz.Start)
	restSeconds := 0.0
	for _, s := range rec.Rest() {
		restSeconds += (min(s.To, nz.Duration) - max(s.From, Settle)).Seconds()
	}
	fromRest := restSeconds >= MinRest.Seconds()
	for i, c := range meta.Channels {
		cn := ChannelNoise{Channel: c}
		if m := meters[i]; m != nil {
			cn.Step, cn.Samples = m.step, m.samples
			if fromRest && m.rest.n > 0 {
				cn.Sigma, cn.FromRest = m.rest.quantile(0.5), true
			} else if m.all.n > 0 {
				cn.Sigma = m.all.quantile(0.1)
			}
		}
		nz.Channels = append(nz.Channels, cn)
	}
	return nz, nil
}

// logHist is a histogram of positive values in bins of 1/histPerDecade
// decade from 1e-9 to 1e3: bounded memory for a quantile of any number of
// blocks, within 1.2 %.
type logHist struct {
	bins [histDecades * histPerDecade]int64
	n    int64
}

const (
	histMin       = 1e-9
	histDecades   = 12
	histPerDecade = 200
)

func (h *logHist) add(v float64) {
	k := 0
	if v > histMin {
		k = min(len(h.bins)-1, int(math.Log10(v/histMin)*histPerDecade))
	}
	h.bins[k]++
	h.n++
}

// quantile returns the centre of the bin holding the q-quantile.
func (h *logHist) quantile(q float64) float64 {
	want := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for k, c := range h.bins {
		seen += c
		if seen >= max(want, 1) {
			return histMin * math.Pow(10, (float64(k)+0.5)/histPerDecade)
		}
	}
	return 0
}
