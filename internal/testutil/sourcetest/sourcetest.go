// Package sourcetest reads a pipeline.Source to its end for tests,
// keeping every frame, and checks the Source contract on the way.
package sourcetest

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

// ReadAll calls src.Next through one batch of the given capacity (small
// capacities exercise batch boundaries) until it returns an error, and
// returns a copy of every frame delivered, including those that came with
// the error, so they outlive the batch. The error is nil at io.EOF. It
// fails t when io.EOF comes with frames in the batch, which the Source
// contract forbids.
func ReadAll(t testing.TB, src pipeline.Source, capacity int) ([]pipeline.Frame, error) {
	t.Helper()
	b := pipeline.NewBatch(len(src.Meta().Channels), capacity)
	var out []pipeline.Frame
	for {
		err := src.Next(context.Background(), b)
		for _, f := range b.Frames {
			out = append(out, pipeline.Frame{Time: f.Time, Values: append([]float64(nil), f.Values...)})
		}
		if errors.Is(err, io.EOF) {
			if b.Len() != 0 {
				t.Errorf("sourcetest: io.EOF with %d frames in the batch", b.Len())
			}
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// Frames is ReadAll with a batch of 64 frames that fails t on any error
// but io.EOF.
func Frames(t testing.TB, src pipeline.Source) []pipeline.Frame {
	t.Helper()
	out, err := ReadAll(t, src, 64)
	if err != nil {
		t.Fatalf("sourcetest: after %d frames: %v", len(out), err)
	}
	return out
}
