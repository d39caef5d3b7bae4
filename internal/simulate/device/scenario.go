package device

import (
	"context"
	"io"

	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/csv" // the generator writes CSV
	"github.com/twitchd/twitchd/internal/simulate"
)

// PlayScenario generates the recording of sc with seed and plays it as
// opts says (see Play), in constant memory: the generator writes CSV into
// a pipe that the csv decoder reads. It returns the recording's labels
// once the whole of it was played, and nil labels when ctx ended first.
func PlayScenario(ctx context.Context, sc simulate.Scenario, seed int64, opts Options) (*simulate.Labels, error) {
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
	err = Play(ctx, src, opts)
	stop()
	if err != nil || ctx.Err() != nil || genErr != nil {
		return nil, err
	}
	return l, nil
}
