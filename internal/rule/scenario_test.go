package rule_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/csv"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/session"
	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/internal/sink/events"
	"github.com/twitchd/twitchd/pipeline"
)

// TestScenarios generates every simulator preset, replays it through the
// detectors with the Engine as an event stage, and compares the final
// status with the one the simulator's labels expect from the ground truth.
func TestScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and replays every simulator preset")
	}
	for _, sc := range simulate.Presets() {
		t.Run(sc.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), sc.Name+".csv")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			labels, err := simulate.Generate(sc, 1, f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			eng := rule.New(context.Background(), rule.DefaultConfig(), nil, nil)
			col := &events.Collector{}
			_, err = session.ReplayFile(context.Background(), path, "", decode.Options{}, session.Config{
				Subject: sc.Subject, Site: sc.Site, Stages: []pipeline.EventStage{eng}, Sinks: []pipeline.Sink{col},
			})
			if err != nil {
				t.Fatal(err)
			}
			var final *pipeline.Assessment
			var changes []string
			for _, ev := range col.Events {
				if a, ok := ev.(*pipeline.Assessment); ok {
					final = a
					changes = append(changes, a.Status)
				}
			}
			if final == nil {
				t.Fatal("no assessment")
			}
			if final.Status != labels.ExpectedStatus {
				t.Errorf("status %s, labels expect %s\nreason: %s\nmeasures: %v\nassessments: %v",
					final.Status, labels.ExpectedStatus, final.Reason, final.Measures, changes)
			}
			t.Logf("%s: %s (%s) before %.2f/min after %.2f/min", sc.Name, final.Status, final.Reason,
				final.Measures[rule.MeasureRateBefore], final.Measures[rule.MeasureRateAfter])
			if final.Subject != sc.Subject || final.Site != sc.Site || final.Notice != rule.Notice {
				t.Errorf("final assessment %+v: wrong tags or notice", final)
			}
		})
	}
}
