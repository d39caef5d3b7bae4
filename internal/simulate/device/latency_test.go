package device_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/decode/cyton"
	"github.com/twitchd/twitchd/internal/simulate/device"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/pipeline"
)

// latencyProbe records, for every frame reaching the processors, how long
// after the Stream's arrival time for it (its timestamp: the host arrival
// of the bytes, minus the smallest transfer delay) it got there.
type latencyProbe struct {
	mu     sync.Mutex
	lat    []time.Duration
	frames int
	want   int
	done   chan struct{}
}

func (p *latencyProbe) Begin(pipeline.Meta, pipeline.Emit) error { return nil }
func (p *latencyProbe) End(int64) error                          { return nil }
func (p *latencyProbe) Process(b *pipeline.Batch) error {
	now := time.Now().UnixNano()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range b.Frames {
		p.lat = append(p.lat, time.Duration(now-f.Time))
	}
	p.frames += b.Len()
	if p.frames >= p.want && p.done != nil {
		close(p.done)
		p.done = nil
	}
	return nil
}

// TestLatencyToProcessors runs a Cyton stand-in in real time through a
// pseudo-terminal, the Conn, the decoder and a pipeline.Runner, and logs
// the latency from a sample's arrival to its frame reaching the
// processors. It asserts nothing about time (the machine is shared); run
// with -v to see the numbers.
func TestLatencyToProcessors(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time run")
	}
	for _, linger := range []time.Duration{-1, 0} {
		t.Run(linger.String(), func(t *testing.T) { latency(t, linger) })
	}
}

func latency(t *testing.T, linger time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	src := &rampSource{rate: 250, step: 0.001, period: 300, n: 1 << 40}
	dev, err := device.NewDevice(src, device.Options{Protocol: device.Cyton, Speed: 1})
	if err != nil {
		t.Fatal(err)
	}
	fd := newFakeDev(t, filepath.Join(t.TempDir(), "ttyUSB0"))
	sctx, stop := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() { defer close(served); dev.Serve(sctx, fd.leader) }()
	defer func() { stop(); fd.unplug(); <-served }()

	live, conn := cyton.Dial(ctx, serial.ConnConfig{Name: fd.link}, cyton.Config{}, serial.StreamOptions{Linger: linger})
	defer conn.Close()
	probe := &latencyProbe{want: 1000, done: make(chan struct{})}
	rctx, stopRun := context.WithCancel(ctx)
	r := &pipeline.Runner{Source: live, Processors: []pipeline.Processor{probe}, Subject: "s", Site: "calf"}
	var res pipeline.Result
	ran := make(chan error, 1)
	go func() { var err error; res, err = r.Run(rctx); ran <- err }()
	select {
	case <-probe.done:
	case <-ctx.Done():
		t.Fatal("no 1000 frames within 20 s")
	}
	stopRun()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if !res.Summary.Interrupted || res.Summary.Channels[0].Samples < 1000 {
		t.Fatalf("summary %+v", res.Summary)
	}
	probe.mu.Lock()
	lat := slices.Clone(probe.lat[250:]) // after the first second (anchoring)
	probe.mu.Unlock()
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	t.Logf("arrival -> processors over %d frames: p50 %v, p90 %v, p99 %v, max %v (linger %v; 0 is the 10 ms default)",
		len(lat), q(0.5), q(0.9), q(0.99), lat[len(lat)-1], linger)
}
