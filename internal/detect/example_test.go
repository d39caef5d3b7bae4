package detect_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/twitchd/twitchd/internal/detect"
	"github.com/twitchd/twitchd/pipeline"
)

// Example runs the detectors over a minute of surface EMG at rest with
// two fasciculation potentials in it, and prints the twitches they
// report: when, on which sensor, and in which phase.
func Example() {
	d, err := detect.New(detect.Default())
	if err != nil {
		panic(err)
	}
	t0 := int64(1_700_000_000e9) // the recording's clock, ns
	chans := []pipeline.Channel{{Name: "emg", Kind: pipeline.KindEMG, Unit: "mV", RateHz: 1000}}
	emit := func(e pipeline.Event) {
		if tw, ok := e.(*pipeline.Twitch); ok {
			fmt.Printf("twitch at %.2f s on %s, %s\n", float64(int64(tw.Start)-t0)/1e9, tw.Sensor, tw.Phase)
		}
	}
	if err := d.Begin(pipeline.Meta{Channels: chans}, emit); err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b := pipeline.NewBatch(len(chans), 1000)
	var last int64
	for s := 0; s < 60; s++ { // one batch per second
		b.Reset()
		for i := 0; i < 1000; i++ {
			t := float64(s) + float64(i)/1000
			x := 0.004 * rng.NormFloat64() // 4 µV of noise
			for _, at := range []float64{21.5, 43.25} {
				if d := t - at; d >= 0 && d < 0.01 {
					x += 0.15 * math.Sin(2*math.Pi*d/0.01) // a 10 ms biphasic potential, 150 µV
				}
			}
			last = t0 + int64(t*1e9)
			b.Append(last)[0] = x
		}
		if err := d.Process(b); err != nil {
			panic(err)
		}
	}
	if err := d.End(last); err != nil {
		panic(err)
	}
	// Output:
	// twitch at 21.50 s on emg, rest
	// twitch at 43.25 s on emg, rest
}
