package ingest_test

import (
	"context"
	"fmt"
	"log"
	"path/filepath"

	"github.com/twitchd/twitchd/internal/ingest"
)

// ExampleRun replays a recording without InfluxDB, as "twitchd replay
// --spool-dir= FILE" does, and prints what came of it. Set Influx.URL
// (and Spool.Root) to store the events, Events to write the events file,
// Device instead of Files to collect live.
func ExampleRun() {
	cfg := ingest.Defaults()
	cfg.Subject, cfg.Site = "p01", "calf_left"
	cfg.Files = []ingest.File{{Path: filepath.Join("..", "..", "testdata", "calf.edf")}}
	res, err := ingest.Run(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range res.Streams {
		var samples int64
		for _, c := range s.Summary.Channels {
			samples += c.Samples
		}
		fmt.Printf("%s (%s): %d samples from %s to %s, subject %s at %s, error %v\n", filepath.Base(s.Name), s.Summary.Format,
			samples, s.Summary.Start, s.Summary.End, s.Summary.Subject, s.Summary.Site, s.Err)
		fmt.Println("assessed:", len(s.Verdicts) == 1 && s.Verdicts[0].Notice != "")
	}
	// Output:
	// calf.edf (edf): 43125 samples from 2026-11-25T10:00:00.000000000Z to 2026-11-25T10:01:14.998000000Z, subject p01 at calf_left, error <nil>
	// assessed: true
}
