package ingest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/eval"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/pipeline"
)

// collector is a Sink that keeps every event but watermarks.
type collector struct {
	mu  sync.Mutex
	evs []pipeline.Event
}

func (c *collector) Write(ev pipeline.Event) error {
	if ev.EventType() != pipeline.TypeWatermark {
		c.mu.Lock()
		c.evs = append(c.evs, ev)
		c.mu.Unlock()
	}
	return nil
}

func (c *collector) Flush(context.Context) error { return nil }

// TestFixtures replays the committed recordings of testdata/ (a CSV, an
// EDF+ and a raw OpenBCI Cyton capture, see testdata/README.md) and
// scores what the run found against their labels, the simulator's ground
// truth, with the suite's tolerances (±50 ms for EMG, ±150 ms for the
// accelerometer): every labelled EMG twitch is found with at most one
// false one, accelerometer twitches are never invented and at least half
// of the visible ones are found, no cramp is invented, and every stream
// ends with an assessment that carries the notice. The fixtures are too
// short for the bout and persistence bars of the suite (eval -suite).
func TestFixtures(t *testing.T) {
	cases := []struct {
		file, format string
	}{
		{"forearm.csv", ""},
		{"calf.edf", ""},
		{"forearm-cyton.bin", "openbci-cyton"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("..", "..", "testdata", c.file)
			labels, err := eval.LoadLabels(path[:len(path)-len(filepath.Ext(path))] + ".labels.json")
			if err != nil {
				t.Fatal(err)
			}
			col := &collector{}
			cfg := Defaults()
			// A raw capture has no clock: it starts when the labels do.
			cfg.Files = []File{{Path: path, Format: c.format, Options: decode.Options{Start: labels.Start.Time()}}}
			cfg.Sinks = []pipeline.Sink{col}
			res, err := Run(context.Background(), cfg)
			if err != nil || res.Failed() > 0 {
				t.Fatalf("run: %v %+v", err, res)
			}
			r := eval.Score(labels, col.evs, eval.DefaultOptions())
			t.Logf("EMG %d/%d found, %d false; acc %d/%d, %d false; cramps %d/%d, %d invented; status %s (labels: %s)",
				r.EMG.TP, r.EMG.True, r.EMG.FP, r.Acc.TP, r.Acc.True, r.Acc.FP, r.Cramps.Found, r.Cramps.True, r.Cramps.False,
				r.Status.Got, labels.ExpectedStatus)
			if r.EMG.True == 0 || r.EMG.FN != 0 || r.EMG.FP > 1 {
				t.Errorf("EMG twitches: %d labelled, %d missed, %d false", r.EMG.True, r.EMG.FN, r.EMG.FP)
			}
			if r.Acc.FP != 0 || 2*r.Acc.TP < r.Acc.True {
				t.Errorf("accelerometer twitches: %d visible, %d found, %d false", r.Acc.True, r.Acc.TP, r.Acc.FP)
			}
			if r.Cramps.False != 0 || r.Cramps.Found != r.Cramps.True {
				t.Errorf("cramps: %+v", r.Cramps)
			}
			var last *pipeline.Assessment
			for _, ev := range col.evs {
				if a, ok := ev.(*pipeline.Assessment); ok {
					last = a
				}
			}
			if last == nil || last.Notice == "" {
				t.Errorf("no assessment with its notice: %+v", last)
			}
		})
	}
}

// frameCounter is a Processor that counts frames and emits one bout at
// the end, standing in for the detectors.
type frameCounter struct {
	emit   pipeline.Emit
	frames int
}

func (f *frameCounter) Begin(_ pipeline.Meta, emit pipeline.Emit) error { f.emit = emit; return nil }
func (f *frameCounter) Process(b *pipeline.Batch) error                 { f.frames += b.Len(); return nil }
func (f *frameCounter) End(last int64) error {
	f.emit(&pipeline.Bout{Start: pipeline.Timestamp(last), End: pipeline.Timestamp(last)})
	return nil
}

// TestProcessorsAndStagesAreValues replaces the detectors and the rule
// by the caller's own processor and no stage: the run uses them and
// nothing else.
func TestProcessorsAndStagesAreValues(t *testing.T) {
	fc := &frameCounter{}
	col := &collector{}
	cfg := Defaults()
	cfg.Files = []File{{Path: filepath.Join("..", "..", "testdata", "forearm.csv")}}
	cfg.Processors = func() ([]pipeline.Processor, error) { return []pipeline.Processor{fc}, nil }
	cfg.Stages = func(context.Context, rule.History) []pipeline.EventStage { return nil }
	cfg.Sinks = []pipeline.Sink{col}
	res, err := Run(context.Background(), cfg)
	if err != nil || res.Failed() > 0 {
		t.Fatalf("run: %v %+v", err, res)
	}
	if fc.frames != 11250 {
		t.Fatalf("the processor saw %d frames, want 11250", fc.frames)
	}
	ev := res.Streams[0].Events
	if len(ev) != 1 || ev[pipeline.TypeBout] != 1 || len(res.Streams[0].Verdicts) != 0 {
		t.Fatalf("events %v, verdicts %d: want only the processor's bout and no assessment", ev, len(res.Streams[0].Verdicts))
	}
	if len(col.evs) != 2 { // the bout and the summary
		t.Fatalf("the sink got %d events", len(col.evs))
	}
}
