package hybrid

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/realdata"
	"github.com/twitchd/twitchd/pipeline"
)

// synth is a generated stream for unit tests of one function: channel
// values from a function of the sample index, every channel at its own
// rate as a whole divisor of the first's (NoSample in between).
type synth struct {
	meta  pipeline.Meta
	n     int // frames
	every []int
	val   func(ch, i int) float64
	i     int
	start int64
}

func (s *synth) Meta() pipeline.Meta         { return s.meta }
func (s *synth) Stats() pipeline.SourceStats { return pipeline.SourceStats{Frames: int64(s.i)} }
func (s *synth) Next(ctx context.Context, b *pipeline.Batch) error {
	b.Reset()
	for s.i < s.n && !b.Full() {
		v := b.Append(s.start + int64(math.Round(float64(s.i)*1e9/s.meta.Channels[0].RateHz)))
		for c := range v {
			v[c] = pipeline.NoSample
			if s.i%s.every[c] == 0 {
				v[c] = s.val(c, s.i/s.every[c])
			}
		}
		s.i++
	}
	if b.Len() == 0 {
		return io.EOF
	}
	return nil
}

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).UnixNano()

// emgAcc is 60 s of EMG at 1000 Hz and a 50 Hz accelerometer: EMG a
// 77 Hz sine of amplitude emgAmp (a third of it in 0-30 s, three times
// in 30-45 s: activity), the axes 10 Hz sines of accAmp, all rounded to
// step. Sines avoid the mains combs and sit inside both bands.
func emgAcc(emgAmp, accAmp, step float64, noise float64) *synth {
	rng := rand.New(rand.NewPCG(1, 2))
	return &synth{
		meta: pipeline.Meta{Channels: []pipeline.Channel{
			{Name: "emg", Kind: pipeline.KindEMG, Unit: "mV", RateHz: 1000},
			{Name: "acc_x", Kind: pipeline.KindAcc, Unit: "g", RateHz: 50, Axis: 'x', Group: "acc"},
			{Name: "acc_y", Kind: pipeline.KindAcc, Unit: "g", RateHz: 50, Axis: 'y', Group: "acc"},
			{Name: "acc_z", Kind: pipeline.KindAcc, Unit: "g", RateHz: 50, Axis: 'z', Group: "acc"},
		}},
		n: 60000, every: []int{1, 20, 20, 20}, start: t0,
		val: func(ch, i int) float64 {
			var v float64
			if ch == 0 {
				a := emgAmp
				if t := float64(i) / 1000; t >= 30 && t < 45 {
					a *= 3
				}
				v = a*math.Sin(2*math.Pi*77*float64(i)/1000) + noise*rng.NormFloat64()
			} else {
				v = float64(ch-2) + accAmp*math.Sin(2*math.Pi*10*float64(i)/50+float64(ch)) + noise*rng.NormFloat64()
			}
			return step * math.Round(v/step)
		},
	}
}

// synthRec catalogues the synthetic stream: rest but for 30-45 s.
var synthRec = realdata.Recording{Path: "synthetic", Sensors: realdata.EMG | realdata.Acc,
	Stretches: []realdata.Stretch{{From: 0, To: 30 * time.Second}, {From: 30 * time.Second, To: 45 * time.Second, Active: true},
		{From: 45 * time.Second, To: 61 * time.Second}}}

// TestMeasure checks the noise measured on sines of known RMS (with a
// little noise dithering the last bits), the activity stretch left out,
// and the quantisation step.
func TestMeasure(t *testing.T) {
	nz, err := Measure(context.Background(), emgAcc(0.01, 0.004, 1e-5, 3e-5), synthRec)
	if err != nil {
		t.Fatal(err)
	}
	if nz.Start != t0 || nz.Duration != 59999*time.Millisecond {
		t.Errorf("start %d, duration %v", nz.Start, nz.Duration)
	}
	want := []float64{0.01 / math.Sqrt2, 0.004 / math.Sqrt2, 0.004 / math.Sqrt2, 0.004 / math.Sqrt2}
	for i, c := range nz.Channels {
		if !c.FromRest || math.Abs(c.Sigma/want[i]-1) > 0.03 {
			t.Errorf("%s: sigma %v (from rest %v), want %v within 3%%", c.Name, c.Sigma, c.FromRest, want[i])
		}
		// the EMG dithers through the step near its peaks; the fast
		// accelerometer sines never step by one: a multiple of it
		if k := c.Step / 1e-5; (i == 0 && math.Abs(k-1) > 1e-6) || k < 1-1e-6 || math.Abs(k-math.Round(k)) > 1e-6 {
			t.Errorf("%s: step %v, want 1e-5 (EMG) or a multiple", c.Name, c.Step)
		}
	}
	if n := nz.Channels[1].Samples; n != 3000 {
		t.Errorf("accelerometer samples %d, want 3000", n)
	}
	// without enough rest, a low quantile of everything
	allActive := realdata.Recording{Path: "x", Stretches: []realdata.Stretch{{From: 0, To: time.Minute, Active: true}}}
	nz, err = Measure(context.Background(), emgAcc(0.01, 0.004, 1e-5, 0), allActive)
	if err != nil {
		t.Fatal(err)
	}
	if c := nz.Channels[0]; c.FromRest || math.Abs(c.Sigma/want[0]-1) > 0.03 {
		t.Errorf("all active: sigma %v from rest %v, want the 10th percentile %v", c.Sigma, c.FromRest, want[0])
	}
}

// TestPlan checks where injections go and that a plan is reproducible.
func TestPlan(t *testing.T) {
	nz, err := Measure(context.Background(), emgAcc(0.01, 0.004, 1e-5, 0.001), synthRec)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	p := NewPlan(cfg, synthRec, nz, 0)
	q := NewPlan(cfg, synthRec, nz, 0)
	r := NewPlan(cfg, synthRec, nz, 1)
	if len(p.Truths) == 0 || len(p.Truths) != len(q.Truths) {
		t.Fatalf("%d and %d truths", len(p.Truths), len(q.Truths))
	}
	for i := range p.Truths {
		if p.Truths[i] != q.Truths[i] {
			t.Fatalf("truth %d differs between two plans from one seed: %+v, %+v", i, p.Truths[i], q.Truths[i])
		}
	}
	if len(r.Truths) > 0 && r.Truths[0] == p.Truths[0] {
		t.Error("draw 1 repeats draw 0")
	}
	var counts [numClasses]int
	for _, tr := range p.Truths {
		counts[tr.Class]++
		at := time.Duration(tr.Start - t0)
		if at < cfg.Warmup || tr.End <= tr.Start || tr.End-tr.Start > int64(time.Second) {
			t.Errorf("truth %+v at %v", tr, at)
		}
		if tr.Active != synthRec.ActiveAt(at) {
			t.Errorf("truth at %v marked active %v", at, tr.Active)
		}
		for _, s := range synthRec.Stretches {
			if at >= s.From && at < s.To && (at < s.From+cfg.Margin || at > s.To-cfg.Margin) {
				t.Errorf("truth at %v within %v of its stretch's edge", at, cfg.Margin)
			}
		}
		lo, hi := cfg.SNR[0], cfg.SNR[1]
		switch tr.Class {
		case AccStrong:
			lo, hi = cfg.AccSNR[0], cfg.AccSNR[1]
		case AccWeak:
			lo, hi = cfg.WeakSNR[0], cfg.WeakSNR[1]
		}
		if tr.SNR < lo || tr.SNR > hi {
			t.Errorf("%v with SNR %v", tr.Class, tr.SNR)
		}
	}
	if counts[EMGClear]+counts[EMGFaint] < 8 || counts[AccStrong]+counts[AccWeak] < 4 {
		t.Errorf("counts per class %v", counts)
	}
}

// TestInjector checks that the injector adds each waveform with the
// peak its truth says, relative to the measured noise, on the
// recording's quantisation grid, and nothing elsewhere.
func TestInjector(t *testing.T) {
	const step = 1e-4
	nz, err := Measure(context.Background(), emgAcc(0.01, 0.004, step, 0), synthRec)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPlan(Default(), synthRec, nz, 0)
	clean, dirty := readAll(t, emgAcc(0.01, 0.004, step, 0)), readAll(t, NewInjector(emgAcc(0.01, 0.004, step, 0), p))
	var accSigma float64
	for _, c := range nz.Channels[1:] {
		accSigma += c.Sigma * c.Sigma / 3
	}
	accSigma = math.Sqrt(accSigma)
	for _, tr := range p.Truths {
		peak := 0.0
		for i, fr := range dirty {
			if fr.Time < tr.Start || fr.Time > tr.End {
				continue
			}
			var mag float64
			switch tr.Class {
			case EMGClear, EMGFaint:
				mag = math.Abs(fr.Values[0] - clean[i].Values[0])
			default:
				for a := 1; a <= 3; a++ {
					if d := fr.Values[a] - clean[i].Values[a]; !math.IsNaN(d) {
						mag += d * d
					}
				}
				mag = math.Sqrt(mag)
			}
			peak = math.Max(peak, mag)
		}
		// rounding to the channel's grid moves each axis by half a step
		noise, tol := nz.Channels[0].Sigma, nz.Channels[0].Step/2
		if tr.Class == AccStrong || tr.Class == AccWeak {
			noise = accSigma
			tol = math.Sqrt(3) / 2 * max(nz.Channels[1].Step, nz.Channels[2].Step, nz.Channels[3].Step)
		}
		// EMG bursts: other potentials reach up to 1.15 of the first's
		// peak, or add to it where they overlap.
		if got, want := peak, tr.SNR*noise; got < want-tol || got > 2.3*want+tol {
			t.Errorf("%v at %v: injected peak %v, want %v (SNR %.1f)", tr.Class, time.Duration(tr.Start-t0), got, want, tr.SNR)
		}
	}
	changed := 0
	for i, fr := range dirty {
		for c, v := range fr.Values {
			d := v - clean[i].Values[c]
			if math.IsNaN(v) != math.IsNaN(clean[i].Values[c]) {
				t.Fatalf("frame %d channel %d: a sample appeared or vanished", i, c)
			}
			if math.IsNaN(d) || d == 0 {
				continue
			}
			changed++
			if k := d / step; math.Abs(k-math.Round(k)) > 1e-6 {
				t.Fatalf("frame %d channel %d: %v left the %v grid", i, c, d, step)
			}
			in := false
			for _, tr := range p.Truths {
				in = in || fr.Time >= tr.Start && fr.Time <= tr.End
			}
			if !in {
				t.Fatalf("frame %d (%v) changed outside every truth", i, time.Duration(fr.Time-t0))
			}
		}
	}
	if changed == 0 {
		t.Error("nothing injected")
	}
}

// frame copies a pipeline.Frame.
type frame struct {
	Time   int64
	Values []float64
}

func readAll(t *testing.T, src pipeline.Source) []frame {
	t.Helper()
	b := pipeline.NewBatch(len(src.Meta().Channels), 512)
	var out []frame
	for {
		err := src.Next(context.Background(), b)
		for _, fr := range b.Frames {
			out = append(out, frame{fr.Time, append([]float64(nil), fr.Values...)})
		}
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestScore checks the counting on hand-made detections: a detection on
// half of the truths, a false one at rest and one in activity.
func TestScore(t *testing.T) {
	nz, err := Measure(context.Background(), emgAcc(0.01, 0.004, 1e-5, 0.001), synthRec)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPlan(Default(), synthRec, nz, 0)
	var evs []pipeline.Event
	var want [numClasses]Count
	tps := [2]int{}
	for i, tr := range p.Truths {
		c := &want[tr.Class]
		if tr.Active {
			c.Active++
		} else {
			c.Rest++
		}
		if i%2 == 1 {
			continue
		}
		if tr.Active {
			c.ActiveFound++
		} else {
			c.RestFound++
		}
		sensor, k := "emg", 0
		if tr.Class == AccStrong || tr.Class == AccWeak {
			sensor, k = "acc", 1
		}
		tps[k]++
		evs = append(evs, &pipeline.Twitch{Start: pipeline.Timestamp(tr.Start + 1e6), End: pipeline.Timestamp(tr.End), Sensor: sensor})
	}
	evs = append(evs,
		&pipeline.Twitch{Start: pipeline.Timestamp(t0 + int64(50*time.Second) + 7e8), End: pipeline.Timestamp(t0 + int64(50*time.Second) + 71e7), Sensor: "emg"},
		&pipeline.Twitch{Start: pipeline.Timestamp(t0 + int64(40*time.Second) + 3e8), End: pipeline.Timestamp(t0 + int64(40*time.Second) + 31e7), Sensor: "acc"})
	r := newResult(synthRec, nz)
	r.add(synthRec, nz, p, evs)
	if r.Classes != want {
		t.Errorf("classes %+v, want %+v", r.Classes, want)
	}
	if r.EMG.TP != tps[0] || r.Acc.TP != tps[1] || r.EMG.FPRest != 1 || r.EMG.FPActive != 0 || r.Acc.FPRest != 0 || r.Acc.FPActive != 1 {
		t.Errorf("emg %+v acc %+v, want TP %v and one false alarm each (EMG at rest, acc in activity)", r.EMG, r.Acc, tps)
	}
	if math.Abs(r.EMG.RestSeconds-45) > 2e-3 || math.Abs(r.EMG.FAPerHour()-80) > 1e-2 {
		t.Errorf("EMG rest %v s, %v FA/h; want 45 s, 80/h", r.EMG.RestSeconds, r.EMG.FAPerHour())
	}
	pooled := Pool([]Result{r, r})
	if pooled.EMG.FPRest != 2 || pooled.Classes[EMGClear].Rest != 2*want[EMGClear].Rest || pooled.Draws != 2 {
		t.Errorf("pooled %+v", pooled)
	}
	ms := Bars(pooled)
	if len(ms) == 0 {
		t.Error("half the truths found, yet every bar cleared")
	}
}
