package device

import (
	"context"
	"io"
	"os"

	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/csv" // the generator writes CSV
	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/pipeline"
)

// PlayScenario generates the recording of sc with seed and plays it as
// opts says (see Play), in constant memory. It returns the recording's
// labels once the whole of it was played, and nil labels when ctx ended
// first.
func PlayScenario(ctx context.Context, sc simulate.Scenario, seed int64, opts Options) (*simulate.Labels, error) {
	l, err := generated(sc, seed, func(src pipeline.Source) error { return Play(ctx, src, opts) })
	if err != nil || ctx.Err() != nil {
		return nil, err
	}
	return l, nil
}

// CaptureScenario generates the recording of sc with seed and writes
// what a device of opts.Protocol (with opts.Settings) would send for it
// to w (see Device.Capture), and returns its labels.
func CaptureScenario(sc simulate.Scenario, seed int64, opts Options, w io.Writer) (*simulate.Labels, error) {
	return generated(sc, seed, func(src pipeline.Source) error {
		d, err := NewDevice(src, opts)
		if err != nil {
			return err
		}
		return d.Capture(w)
	})
}

// generated runs fn on the recording of sc with seed as it is generated:
// the generator writes CSV into a pipe that the csv decoder reads. It
// returns the labels when the generator finished, nil when fn stopped
// reading first.
func generated(sc simulate.Scenario, seed int64, fn func(pipeline.Source) error) (*simulate.Labels, error) {
	pr, pw := io.Pipe()
	var l *simulate.Labels
	var genErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		l, genErr = simulate.Generate(sc, seed, pw)
		pw.CloseWithError(genErr) // nil: the reader sees EOF
	}()
	stop := func() {
		pr.CloseWithError(io.ErrClosedPipe) // unblocks a generator still writing
		<-done
	}
	f, err := decode.Lookup("csv")
	if err != nil {
		stop()
		return nil, err
	}
	src, err := f.Open(pr, decode.Options{Name: "simulate:" + sc.Name, Strict: true})
	if err != nil {
		stop()
		return nil, err
	}
	err = fn(src)
	stop()
	if err != nil || genErr != nil {
		return nil, err
	}
	return l, nil
}

// CaptureScenarioFile is CaptureScenario into the file path; the labels
// go to lpath (default: simulate.LabelsPath(path)).
func CaptureScenarioFile(sc simulate.Scenario, seed int64, opts Options, path, lpath string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	l, err := CaptureScenario(sc, seed, opts, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if lpath == "" {
		lpath = simulate.LabelsPath(path)
	}
	return simulate.WriteLabelsFile(lpath, l)
}
