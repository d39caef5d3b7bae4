package detect

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

// benchStream feeds a detector n frames of synthetic rest: EMG noise with
// mains hum at 1 kHz and a still accelerometer at 50 Hz (NaN between its
// samples), with a twitch-like burst now and then.
func benchStream(b *testing.B, withEMG, withAcc bool) {
	var chans []pipeline.Channel
	if withEMG {
		chans = append(chans, pipeline.Channel{Name: "emg", Kind: pipeline.KindEMG, Unit: "mV", RateHz: 1000})
	}
	if withAcc {
		for _, ax := range []byte{'x', 'y', 'z'} {
			chans = append(chans, pipeline.Channel{Name: "acc_" + string(ax), Kind: pipeline.KindAcc, Unit: "g", RateHz: 50, Axis: ax, Group: "acc"})
		}
	}
	d, err := New(Default())
	if err != nil {
		b.Fatal(err)
	}
	var events int
	if err := d.Begin(pipeline.Meta{Channels: chans}, func(pipeline.Event) { events++ }); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const batch = 512
	bt := pipeline.NewBatch(len(chans), batch)
	t0 := int64(1_700_000_000e9)
	i := int64(0)
	fill := func() {
		bt.Reset()
		for k := 0; k < batch; k++ {
			v := bt.Append(t0 + i*1e6)
			c := 0
			if withEMG {
				x := 0.005*rng.NormFloat64() + 0.01*math.Sin(2*math.Pi*50*float64(i)/1000)
				if i%7000 < 10 {
					x += 0.2 * math.Sin(2*math.Pi*float64(i%7000)/10)
				}
				v[c] = x
				c++
			}
			if withAcc {
				if i%20 == 0 {
					v[c], v[c+1], v[c+2] = 0.01*rng.NormFloat64(), 0.01*rng.NormFloat64(), 1+0.01*rng.NormFloat64()
				} else {
					v[c], v[c+1], v[c+2] = pipeline.NoSample, pipeline.NoSample, pipeline.NoSample
				}
			}
			i++
		}
	}
	// Warm up past the detectors' start-up so steady state is measured.
	for i < 60_000 {
		fill()
		if err := d.Process(bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		fill()
		b.StartTimer()
		if err := d.Process(bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/frame")
}

func BenchmarkDetectorEMG1kHz(b *testing.B)   { benchStream(b, true, false) }
func BenchmarkDetectorAcc50Hz(b *testing.B)   { benchStream(b, false, true) }
func BenchmarkDetectorEMGAndAcc(b *testing.B) { benchStream(b, true, true) }
