package eval

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/all" // registers the csv decoder
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/session"
	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/pipeline"
)

// Case is one scenario of a benchmark suite: generator settings and a
// seed, never a stored recording.
type Case struct {
	Name     string
	Scenario simulate.Scenario
	Seed     int64
}

// caseSpec describes a case by preset and the settings it changes.
type caseSpec struct {
	name, preset   string
	seed           int64
	emgRate, accHz float64
	mains, noiseUV float64
	mainsUV        float64 // 0: the preset's
	shortMinutes   float64 // length in the short suite
}

// suiteSpecs spans noise floors 2..20 µV, mains 50 and 60 Hz, EMG at 500,
// 1000 and 2000 Hz, accelerometers at 25, 50 and 100 Hz, every activity,
// fidget-heavy rest, persistent and ceased twitching, cramps, no
// twitching and quiet rest without exercise.
var suiteSpecs = []caseSpec{
	{"calf-running-fades", "running-fades", 11, 1000, 50, 50, 4, 0, 5},
	{"forearm-lifting-stops", "lifting-stops", 12, 2000, 100, 60, 2, 0, 6},
	{"thigh-cycling-persists", "cycling-persists", 13, 500, 25, 60, 8, 0, 6},
	{"calf-cramps", "cramps", 14, 1000, 100, 50, 6, 0, 6},
	{"calf-no-twitch", "no-twitch", 15, 2000, 50, 60, 10, 0, 4},
	{"forearm-quiet-rest", "quiet-rest", 16, 500, 25, 50, 3, 0, 3},
	{"calf-fidget-rest", "fidget-rest", 17, 1000, 100, 50, 5, 0, 5},
	{"calf-noisy-60hz", "running-fades", 18, 2000, 50, 60, 20, 100, 5},
	{"bundled-calf", "bundled-calf", 1, 1000, 50, 50, 4, 0, 4},
	{"bundled-forearm", "bundled-forearm", 2, 1000, 100, 60, 4, 0, 3},
}

// SuiteNames lists the suites Suite knows.
func SuiteNames() []string { return []string{"short", "full"} }

// Suite returns the cases of the named suite: "full" runs every scenario
// at its defined length (about 95 minutes of recordings); "short" runs
// the same scenarios shrunk to 3..6 minutes each, for make test. It
// returns nil for an unknown name.
func Suite(name string) []Case {
	if name != "short" && name != "full" {
		return nil
	}
	var out []Case
	for _, s := range suiteSpecs {
		sc, err := simulate.Preset(s.preset)
		if err != nil {
			panic("eval: suite names an unknown preset: " + s.preset)
		}
		if name == "short" {
			sc = sc.Scaled(s.shortMinutes)
		}
		sc.Name = s.name
		sc.EMGRate, sc.AccRate, sc.MainsHz, sc.NoiseUV = s.emgRate, s.accHz, s.mains, s.noiseUV
		if s.mainsUV > 0 {
			sc.MainsUV = s.mainsUV
		}
		out = append(out, Case{Name: s.name, Scenario: sc, Seed: s.seed})
	}
	return out
}

// Collector is a pipeline.Sink that keeps every event in memory, except
// watermarks (a promise about time order, never written out).
type Collector struct {
	mu     sync.Mutex
	Events []pipeline.Event
}

// Write implements pipeline.Sink.
func (c *Collector) Write(ev pipeline.Event) error {
	if ev.EventType() == pipeline.TypeWatermark {
		return nil
	}
	c.mu.Lock()
	c.Events = append(c.Events, ev)
	c.mu.Unlock()
	return nil
}

// Flush implements pipeline.Sink; there is nothing to deliver.
func (c *Collector) Flush(context.Context) error { return nil }

// RunSuite generates each case into dir (NAME.csv and NAME.labels.json),
// replays the CSV through session.ReplayFile with the detectors and the
// persistence rule, writes the events to NAME.events.jsonl, and scores
// them with DefaultOptions. The files stay in dir for the caller to keep
// or remove.
func RunSuite(ctx context.Context, cases []Case, dir string) ([]Report, error) {
	var out []Report
	for _, c := range cases {
		r, err := RunCase(ctx, c, dir)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// RunCase runs one case as RunSuite does.
func RunCase(ctx context.Context, c Case, dir string) (Report, error) {
	base := filepath.Join(dir, c.Name)
	csvPath := base + ".csv"
	f, err := os.Create(csvPath)
	if err != nil {
		return Report{}, fmt.Errorf("eval: %w", err)
	}
	l, err := simulate.Generate(c.Scenario, c.Seed, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return Report{}, fmt.Errorf("eval: case %s: %w", c.Name, err)
	}
	if err := simulate.WriteLabelsFile(base+".labels.json", l); err != nil {
		return Report{}, err
	}
	col := &Collector{}
	cfg := session.Config{
		Subject: c.Scenario.Subject,
		Site:    c.Scenario.Site,
		Stages:  []pipeline.EventStage{rule.New(ctx, rule.DefaultConfig(), nil, nil)},
		Sinks:   []pipeline.Sink{col},
	}
	if _, err := session.ReplayFile(ctx, csvPath, "csv", decode.Options{Name: csvPath}, cfg); err != nil {
		return Report{}, fmt.Errorf("eval: case %s: replay: %w", c.Name, err)
	}
	if err := writeEvents(base+".events.jsonl", col.Events); err != nil {
		return Report{}, err
	}
	r := Score(l, col.Events, DefaultOptions())
	r.Scenario = c.Name
	return r, nil
}

func writeEvents(path string, evs []pipeline.Event) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	w := bufio.NewWriter(f)
	for _, ev := range evs {
		b, err := pipeline.MarshalEvent(ev)
		if err != nil {
			f.Close()
			return err
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("eval: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("eval: %s: %w", path, err)
	}
	return nil
}
