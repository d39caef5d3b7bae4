package hybrid

import (
	"context"
	"math"

	"github.com/twitchd/twitchd/pipeline"
)

// Injector is a pipeline.Source that adds a plan's waveforms to the
// frames of another Source as they stream by: a real recording with
// simulated twitches in it. Each addition is rounded to the channel's
// quantisation step, so the values stay on the recording's grid; a
// channel without a sample in a frame gets nothing there. It holds only
// the waveforms active at the current frame.
type Injector struct {
	src    pipeline.Source
	plan   *Plan
	next   int   // next component to start
	active []int // components under way
}

// NewInjector wraps src. The plan must have been drawn from src's
// recording (same channels, same clock).
func NewInjector(src pipeline.Source, plan *Plan) *Injector {
	return &Injector{src: src, plan: plan, active: make([]int, 0, 8)}
}

// Meta implements pipeline.Source.
func (in *Injector) Meta() pipeline.Meta { return in.src.Meta() }

// Stats implements pipeline.Source.
func (in *Injector) Stats() pipeline.SourceStats { return in.src.Stats() }

// Next implements pipeline.Source: the wrapped source's frames with the
// waveforms added.
func (in *Injector) Next(ctx context.Context, b *pipeline.Batch) error {
	err := in.src.Next(ctx, b)
	for i := range b.Frames {
		in.add(&b.Frames[i])
	}
	return err
}

// add adds every waveform under way at the frame's time.
func (in *Injector) add(fr *pipeline.Frame) {
	comps := in.plan.comps
	t := fr.Time
	for in.next < len(comps) && comps[in.next].start <= t {
		in.active = append(in.active, in.next)
		in.next++
	}
	for k := 0; k < len(in.active); {
		c := &comps[in.active[k]]
		if t > c.end {
			in.active[k] = in.active[len(in.active)-1]
			in.active = in.active[:len(in.active)-1]
			continue
		}
		k++
		v := c.scalar(t)
		for a, ch := range c.chans {
			if ch < 0 || pipeline.IsNoSample(fr.Values[ch]) {
				continue
			}
			w := v
			if c.jerk {
				w *= c.dir[a]
			}
			if s := in.plan.steps[ch]; s > 0 {
				w = s * math.Round(w/s)
			}
			fr.Values[ch] += w
		}
	}
}
