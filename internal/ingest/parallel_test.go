package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/pipeline"
)

// TestParallelLikeSequential replays the fixtures twice each, with a
// missing file and an empty one among them, with one job and with three
// (and with a gate that must open early, MaxHeldEvents exceeded): the
// sinks get the same events in the same order, the rule the same
// history (a MemoryHistory fed by a sink, so each file sees the files
// before it), and OnStream reports the same files in input order with
// the same errors.
func TestParallelLikeSequential(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.csv")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	td := filepath.Join("..", "..", "testdata")
	files := []File{
		{Path: filepath.Join(td, "calf.edf")},
		{Path: filepath.Join(td, "forearm.csv")},
		{Path: filepath.Join(dir, "missing.csv")},
		{Path: filepath.Join(td, "forearm-cyton.bin"), Format: "openbci-cyton"},
		{Path: empty},
		{Path: filepath.Join(td, "calf.edf"), Options: decode.Options{}},
		{Path: filepath.Join(td, "forearm.csv")},
	}
	// A raw capture has no clock: give every file one start, so the
	// second replay of a file sees the first in its history.
	for i := range files {
		files[i].Options.Start = files[0].Options.Start
	}
	type outcome struct {
		events  []string
		streams []string
	}
	replay := func(jobs, held int) outcome {
		hist := &historySink{}
		col := &collector{}
		cfg := Defaults()
		cfg.Files = files
		cfg.Jobs = jobs
		cfg.Sinks = []pipeline.Sink{col, hist}
		cfg.Subject, cfg.Site = "p", "calf_left"
		cfg.Stages = func(ctx context.Context, _ rule.History) []pipeline.EventStage {
			return []pipeline.EventStage{rule.New(ctx, cfg.Rule, &hist.h, nil)}
		}
		var o outcome
		cfg.OnStream = func(sr StreamResult) {
			o.streams = append(o.streams, fmt.Sprintf("%s err=%v events=%v", sr.Name, sr.Err != nil, sr.Events))
		}
		old := maxHeld
		maxHeld = held
		defer func() { maxHeld = old }()
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed() != 2 || len(res.Streams) != len(files) {
			t.Fatalf("-j %d: %d streams, %d failed; want %d and 2", jobs, len(res.Streams), res.Failed(), len(files))
		}
		for _, ev := range col.evs {
			o.events = append(o.events, fmt.Sprintf("%T %+v", ev, ev))
		}
		return o
	}
	one := replay(1, MaxHeldEvents)
	if len(one.events) < 50 {
		t.Fatalf("only %d events", len(one.events))
	}
	for _, c := range []struct{ jobs, held int }{{3, MaxHeldEvents}, {3, 7}, {8, MaxHeldEvents}} {
		got := replay(c.jobs, c.held)
		if !reflect.DeepEqual(got.streams, one.streams) {
			t.Errorf("-j %d, held %d: streams\n%q\nwant\n%q", c.jobs, c.held, got.streams, one.streams)
		}
		if len(got.events) != len(one.events) {
			t.Errorf("-j %d, held %d: %d events, want %d", c.jobs, c.held, len(got.events), len(one.events))
			continue
		}
		for i := range got.events {
			if got.events[i] != one.events[i] {
				t.Errorf("-j %d, held %d: event %d\n%s\nwant\n%s", c.jobs, c.held, i, got.events[i], one.events[i])
				break
			}
		}
	}
}

// historySink keeps the bouts, twitches and assessments it is given as
// a person's history, as InfluxDB does for the rule.
type historySink struct{ h rule.MemoryHistory }

func (s *historySink) Write(ev pipeline.Event) error {
	switch e := ev.(type) {
	case *pipeline.Bout:
		s.h.AddBout(e.Subject, e.Site, rule.PastBout{Start: e.Start, End: e.End, Session: e.Session, Intensity: e.Intensity})
	case *pipeline.Twitch:
		s.h.AddEpisode(e.Subject, e.Site, rule.PastEpisode{Time: e.Start, Session: e.Session})
	case *pipeline.Assessment:
		s.h.AddFinal(e.Subject, e.Site, rule.PastFinal{Time: e.Time, Session: e.Session, Status: rule.Status(e.Status)})
	}
	return nil
}

func (s *historySink) Flush(context.Context) error { return nil }

// TestParallelStop cancels a parallel replay once the first file is
// reported: the run ends (no file waits for a turn that never comes),
// the files reported are a prefix of the input, and none starts after
// the stop.
func TestParallelStop(t *testing.T) {
	td := filepath.Join("..", "..", "testdata")
	cfg := Defaults()
	for range 12 {
		cfg.Files = append(cfg.Files, File{Path: filepath.Join(td, "forearm.csv")}, File{Path: filepath.Join(td, "calf.edf")})
	}
	cfg.Jobs = 3
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var names []string
	cfg.OnStream = func(sr StreamResult) {
		names = append(names, sr.Name)
		cancel()
	}
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Streams) == 0 || len(res.Streams) > 1+2*cfg.Jobs {
		t.Fatalf("%d files reported after a stop at the first; want between 1 and %d (those under way)", len(res.Streams), 1+2*cfg.Jobs)
	}
	for i, n := range names {
		if n != cfg.Files[i].Path {
			t.Errorf("file %d reported as %s, want %s", i, n, cfg.Files[i].Path)
		}
	}
}
