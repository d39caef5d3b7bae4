package hybrid

import (
	"context"
	"io"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

// replaySource serves the same frames over and over: the injector's cost
// alone, not a decoder's.
type replaySource struct {
	meta   pipeline.Meta
	frames []frame
	i      int
}

func (r *replaySource) Meta() pipeline.Meta         { return r.meta }
func (r *replaySource) Stats() pipeline.SourceStats { return pipeline.SourceStats{} }
func (r *replaySource) Next(_ context.Context, b *pipeline.Batch) error {
	b.Reset()
	for !b.Full() && r.i < len(r.frames) {
		copy(b.Append(r.frames[r.i].Time), r.frames[r.i].Values)
		r.i++
	}
	if b.Len() == 0 {
		return io.EOF
	}
	return nil
}

// BenchmarkInjector measures the injector per frame (1 kHz EMG and a
// 50 Hz accelerometer, injections every 3-6 s): ns/frame, no allocation.
func BenchmarkInjector(b *testing.B) {
	nz, err := Measure(context.Background(), emgAcc(0.01, 0.004, 1e-5, 3e-5), synthRec)
	if err != nil {
		b.Fatal(err)
	}
	src := emgAcc(0.01, 0.004, 1e-5, 3e-5)
	var frames []frame
	bt := pipeline.NewBatch(4, 1024)
	for src.Next(context.Background(), bt) == nil {
		for _, fr := range bt.Frames {
			frames = append(frames, frame{fr.Time, append([]float64(nil), fr.Values...)})
		}
	}
	plan := NewPlan(Default(), synthRec, nz, 0)
	batch := pipeline.NewBatch(4, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		in := NewInjector(&replaySource{meta: src.Meta(), frames: frames}, plan)
		for n < b.N && in.Next(context.Background(), batch) == nil {
			n += batch.Len()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/frame")
}
