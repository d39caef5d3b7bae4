package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

// benchFrames builds seconds of synthetic rest at a frame rate of base Hz:
// EMG noise with mains hum and a twitch-like burst every 7 s (if emgHz >
// 0), and a still accelerometer at accHz with a damped jerk now and then
// (NaN between its samples), in batches of 512 frames.
func benchFrames(emgHz, accHz float64, seconds int) ([]pipeline.Channel, []*pipeline.Batch) {
	var chans []pipeline.Channel
	base := emgHz
	if emgHz > 0 {
		chans = append(chans, pipeline.Channel{Name: "emg", Kind: pipeline.KindEMG, Unit: "mV", RateHz: emgHz})
	} else {
		base = accHz
	}
	if accHz > 0 {
		for _, ax := range []byte{'x', 'y', 'z'} {
			chans = append(chans, pipeline.Channel{Name: "acc_" + string(ax), Kind: pipeline.KindAcc, Unit: "g", RateHz: accHz, Axis: ax, Group: "acc"})
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	every := int(math.Round(base / accHz))
	n := int(base) * seconds
	var out []*pipeline.Batch
	for i := 0; i < n; {
		b := pipeline.NewBatch(len(chans), 512)
		for k := 0; k < 512 && i < n; k++ {
			t := float64(i) / base
			v := b.Append(int64(t * 1e9))
			c := 0
			if emgHz > 0 {
				x := 0.005*rng.NormFloat64() + 0.01*math.Sin(2*math.Pi*50*t)
				if d := math.Mod(t, 7); d < 0.01 {
					x += 0.2 * math.Sin(2*math.Pi*d/0.01)
				}
				v[c] = x
				c++
			}
			if accHz > 0 {
				if i%every == 0 {
					j := 0.0
					if d := math.Mod(t, 11); d < 0.3 {
						j = 0.02 * math.Exp(-d/0.05) * math.Sin(2*math.Pi*12*d)
					}
					v[c], v[c+1], v[c+2] = 0.0025*rng.NormFloat64()+j, 0.0025*rng.NormFloat64(), 1+0.0025*rng.NormFloat64()
				} else {
					v[c], v[c+1], v[c+2] = pipeline.NoSample, pipeline.NoSample, pipeline.NoSample
				}
			}
			i++
		}
		out = append(out, b)
	}
	return chans, out
}

// benchDetector measures the detector per frame in steady state: the
// recording is replayed again and again with its times shifted, after a
// minute of warm-up so floors, rhythm windows and the CFAR are settled.
func benchDetector(b *testing.B, emgHz, accHz float64) {
	chans, batches := benchFrames(emgHz, accHz, 120)
	d, err := New(Default())
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Begin(pipeline.Meta{Channels: chans}, func(pipeline.Event) {}); err != nil {
		b.Fatal(err)
	}
	span := int64(120e9)
	t0 := int64(1_700_000_000e9)
	i := 0
	// Each round keeps the batches' own times plus the round's offset.
	orig := make([][]int64, len(batches))
	for j, bt := range batches {
		orig[j] = make([]int64, len(bt.Frames))
		for k := range bt.Frames {
			orig[j][k] = bt.Frames[k].Time
		}
	}
	feed := func() {
		j := i % len(batches)
		off := t0 + int64(i/len(batches))*span
		bt := batches[j]
		for k := range bt.Frames {
			bt.Frames[k].Time = orig[j][k] + off
		}
		if err := d.Process(bt); err != nil {
			b.Fatal(err)
		}
		i++
	}
	for i < len(batches) {
		feed()
	}
	b.ReportAllocs()
	frames := 0
	for b.Loop() {
		frames += len(batches[i%len(batches)].Frames)
		feed()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
}

// BenchmarkDetector measures the whole detector per frame (one frame per
// EMG sample, or per accelerometer sample without EMG).
func BenchmarkDetector(b *testing.B) {
	for _, c := range []struct{ emg, acc float64 }{{1000, 0}, {0, 100}, {1000, 50}, {1000, 100}, {2000, 100}} {
		b.Run(fmt.Sprintf("emg%g_acc%g", c.emg, c.acc), func(b *testing.B) { benchDetector(b, c.emg, c.acc) })
	}
}

// perSample reports the time per sample of a benchmark that processed
// samples in all.
func perSample(b *testing.B, samples int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(samples), "ns/sample")
}

// BenchmarkEMGChannel measures one EMG channel's per-sample work at 1 kHz
// (band-pass, notch, envelopes, floors, bursts, rhythm points).
func BenchmarkEMGChannel(b *testing.B) { benchEMGChannel(b, Default()) }

// benchEMGChannel measures one 1 kHz EMG channel of cfg on noise, after
// a minute to settle.
func benchEMGChannel(b *testing.B, cfg Config) {
	c, err := newEMG(&cfg, 0, "emg", 1000, newTimeline(240), &recorder{})
	if err != nil {
		b.Fatal(err)
	}
	x := benchNoise(1 << 16)
	i := 0
	for ; i < 60_000; i++ { // settle
		c.step(int64(i)*1e6, x[i&(len(x)-1)])
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		c.step(int64(i)*1e6, x[i&(len(x)-1)])
		i++
		n++
	}
	perSample(b, n)
}

// BenchmarkAccGroup measures one accelerometer's per-sample work at 100 Hz
// (filters, ENMO, movement, CFAR, rhythm points).
func BenchmarkAccGroup(b *testing.B) {
	cfg := Default()
	g, err := newAcc(&cfg, "acc", [3]int{0, 1, 2}, 100, newTimeline(240), &recorder{})
	if err != nil {
		b.Fatal(err)
	}
	x := benchNoise(1 << 16)
	i := 0
	sample := func() [3]float64 {
		k := (3 * i) & (len(x) - 1)
		return [3]float64{0.0025 * x[k], 0.0025 * x[(k+1)&(len(x)-1)], 1 + 0.0025*x[(k+2)&(len(x)-1)]}
	}
	for ; i < 6_000; i++ {
		g.step(int64(i)*1e7, sample())
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		g.step(int64(i)*1e7, sample())
		i++
		n++
	}
	perSample(b, n)
}

// BenchmarkPeriodicityPush measures adding one point to a cadence window
// (41 lags), for an envelope and for a three-axis signal.
func BenchmarkPeriodicityPush(b *testing.B) {
	for _, dims := range []int{1, 3} {
		b.Run(fmt.Sprintf("dims%d", dims), func(b *testing.B) {
			p := newPeriodicity(160, 41, dims)
			x := benchNoise(1 << 12)
			pt := make([]float64, dims)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				for c := range pt {
					pt[c] = x[(i+c)&(len(x)-1)]
				}
				p.push(pt)
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/point")
		})
	}
}

// BenchmarkPeriodicityEvaluate measures one evaluation of a cadence
// window: autocorrelation, peak, bursts.
func BenchmarkPeriodicityEvaluate(b *testing.B) {
	cfg := Default()
	w := newWindow(cfg.CadenceWindow, cfg.CadenceMin, cfg.CadenceMax, cfg.RhythmPoint, 1, false)
	w.minBursts = cfg.PeriodicBursts
	x := benchNoise(1 << 12)
	for i := 0; i < 200; i++ {
		w.env[w.p.pos] = x[i] * x[i]
		w.act[w.p.pos] = i%14 < 3
		w.p.push([]float64{x[i] * x[i]})
	}
	b.ReportAllocs()
	for b.Loop() {
		w.evaluate(&cfg)
	}
}

// BenchmarkCFARObserve measures the accelerometer's CFAR test per sample
// at 100 Hz.
func BenchmarkCFARObserve(b *testing.B) {
	cfg := Default()
	bp, err := twitchBand(&cfg, 100)
	if err != nil {
		b.Fatal(err)
	}
	c := newCFAR(&cfg, 100, impulse(bp, 100, 2), cfg.RepWindow/2+1.5, func(int64) bool { return false })
	x := benchNoise(1 << 16)
	i := 0
	obs := func() {
		k := (3 * i) & (len(x) - 1)
		v := [3]float64{0.0025 * x[k], 0.0025 * x[(k+1)&(len(x)-1)], 0.0025 * x[(k+2)&(len(x)-1)]}
		c.observe(int64(i)*1e7, v, v, true)
		i++
	}
	for i < 6_000 {
		obs()
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		obs()
		n++
	}
	perSample(b, n)
}

// BenchmarkFloorObserve measures a floor fed every sample (it takes one
// value per FloorStep).
func BenchmarkFloorObserve(b *testing.B) {
	f := newFloor(0.02, 20, 2, 0.25)
	x := benchNoise(1 << 16)
	i := 0
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		f.observe(int64(i)*1e6, 1+0.1*x[i&(len(x)-1)], false)
		i++
		n++
	}
	perSample(b, n)
}

// benchNoise returns n standard Gaussian values.
func benchNoise(n int) []float64 {
	rng := rand.New(rand.NewPCG(5, 5))
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// BenchmarkEMGChannelMains is BenchmarkEMGChannel with the mains known
// (50 Hz), so the mains stage runs from the first sample: the
// frequency-locked canceller (the default) or the fixed comb notch
// (MainsTrackHz 0).
func BenchmarkEMGChannelMains(b *testing.B) {
	for _, track := range []float64{Default().MainsTrackHz, 0} {
		name := "canceller"
		if track == 0 {
			name = "comb-notch"
		}
		b.Run(name, func(b *testing.B) {
			cfg := Default()
			cfg.Mains, cfg.MainsTrackHz = 50, track
			benchEMGChannel(b, cfg)
		})
	}
}
