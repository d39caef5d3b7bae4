package influx

import (
	"context"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/pipeline"
)

// BenchmarkAppendLines encodes the sample events (every type) into a
// reused buffer: the cost per event of the hot path.
func BenchmarkAppendLines(b *testing.B) {
	evs := sampleEvents(ids, t0)
	var p point
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		if buf, err = encode(&p, buf[:0], evs[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}

// BenchmarkAppendLinesEpoch encodes the most frequent event, the
// per-epoch activity point.
func BenchmarkAppendLinesEpoch(b *testing.B) {
	ev := &pipeline.Epoch{Start: t0, End: t0 + 5e9, Tags: ids, Sensor: "acc", Channel: "acc", ENMO: 180.125, Noise: 0.004, Intensity: pipeline.IntensityModerate}
	var p point
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf, _ = encode(&p, buf[:0], ev)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}

// BenchmarkWrite measures Write while the writer drains the queue into a
// local influxd (default settings but a queue that holds b.N points): the
// cost the pipeline sees per event while the writer is busy.
func BenchmarkWrite(b *testing.B) {
	srv := influxtest.Shared(b)
	s, err := New(NewConfig(srv.URL, srv.Bucket).SetQueueSize(b.N + 1))
	if err != nil {
		b.Fatal(err)
	}
	ev := &pipeline.Epoch{Tags: ids, Sensor: "acc", Channel: "acc", Intensity: pipeline.IntensityLight}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev.Start = t0 + pipeline.Timestamp(i)*1e9
		ev.End, ev.ENMO = ev.Start+1e9, float64(i)
		_ = s.Write(ev)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_ = s.Close(ctx)
	if st := s.Stats(); st.Written != int64(b.N) {
		b.Fatalf("written %d of %d: %v", st.Written, b.N, st)
	}
}

// BenchmarkThroughput writes 100 000 activity points (distinct times) to
// a local influxd and flushes: points/s is the end-to-end rate of the
// sink with default batching against InfluxDB 1.8 on this machine.
func BenchmarkThroughput(b *testing.B) {
	const n = 100_000
	srv := influxtest.Shared(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		srv.Reset(b)
		s, err := New(NewConfig(srv.URL, srv.Bucket).SetQueueSize(2 * n))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		ev := &pipeline.Epoch{Tags: ids, Sensor: "acc", Channel: "acc", Intensity: pipeline.IntensityLight}
		for k := 0; k < n; k++ {
			ev.Start = t0 + pipeline.Timestamp(k)*1e9
			ev.End, ev.ENMO = ev.Start+1e9, float64(k)
			if err := s.Write(ev); err != nil {
				b.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		if err := s.Close(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		el := time.Since(start)
		st := s.Stats()
		if st.Written != n {
			b.Fatalf("written %d of %d: %v", st.Written, n, st)
		}
		b.ReportMetric(n/el.Seconds(), "points/s")
		b.ReportMetric(float64(st.LatencyMean.Milliseconds()), "ms-mean-latency")
	}
}
