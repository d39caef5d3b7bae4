package decode_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"path/filepath"

	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/all" // every format
	"github.com/twitchd/twitchd/pipeline"
)

// ExampleOpenFile decodes a recording whose format is detected from its
// content, batch by batch, as a pipeline.Runner would.
func ExampleOpenFile() {
	f, err := decode.OpenFile(filepath.Join("..", "..", "testdata", "forearm.csv"), "", decode.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	meta := f.Meta()
	fmt.Println("format:", f.Format)
	for _, c := range meta.Channels {
		fmt.Printf("%s: %s in %s at %g Hz\n", c.Name, c.Kind, c.Unit, c.RateHz)
	}
	b := pipeline.NewBatch(len(meta.Channels), 512)
	var frames int64
	first := pipeline.Timestamp(0)
	for {
		err := f.Next(context.Background(), b)
		if b.Len() > 0 && frames == 0 {
			first = pipeline.Timestamp(b.Frames[0].Time)
		}
		frames += int64(b.Len())
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(frames, "frames from", first, "; skipped", f.Stats().Skipped)
	// Output:
	// format: csv
	// emg: emg in mV at 250 Hz
	// acc_x: acc in g at 25 Hz
	// acc_y: acc in g at 25 Hz
	// acc_z: acc in g at 25 Hz
	// 11250 frames from 2026-11-25T10:00:00.000000000Z ; skipped 0
}
