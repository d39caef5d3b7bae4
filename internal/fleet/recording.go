package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/pipeline"
)

// Recording is a recording decoded into memory, to be played by many
// stand-ins at once without decoding it for each.
type Recording struct {
	meta   pipeline.Meta
	times  []int64   // per frame, ns
	values []float64 // len(meta.Channels) per frame
}

// LoadRecording decodes the file at path into memory.
func LoadRecording(path string) (*Recording, error) {
	src, err := decode.OpenFile(path, "", decode.Options{})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	r := &Recording{meta: src.Meta()}
	nc := len(r.meta.Channels)
	b := pipeline.NewBatch(nc, 1024)
	for {
		err := src.Next(context.Background(), b)
		for _, f := range b.Frames {
			r.times = append(r.times, f.Time)
			r.values = append(r.values, f.Values...)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if len(r.times) < 2 {
		return nil, fmt.Errorf("%s: %d frames, want at least 2", path, len(r.times))
	}
	return r, nil
}

// Frames returns the number of frames.
func (r *Recording) Frames() int { return len(r.times) }

// Loop returns a source that plays r from frame start (modulo its
// length) for ever, again from the first frame after the last, its times
// running on (one frame interval between passes). The sources of one
// Recording share its memory.
func (r *Recording) Loop(start int) pipeline.Source {
	n := len(r.times)
	span := r.times[n-1] - r.times[0] + (r.times[n-1]-r.times[0])/int64(n-1)
	return &loop{r: r, i: ((start % n) + n) % n, span: span}
}

type loop struct {
	r      *Recording
	i      int   // next frame
	offset int64 // added to the times of this pass
	span   int64 // one pass
}

func (l *loop) Meta() pipeline.Meta         { return l.r.meta }
func (l *loop) Stats() pipeline.SourceStats { return pipeline.SourceStats{} }

// Next fills b; it never ends.
func (l *loop) Next(ctx context.Context, b *pipeline.Batch) error {
	b.Reset()
	nc := len(l.r.meta.Channels)
	for !b.Full() {
		if l.i == len(l.r.times) {
			l.i, l.offset = 0, l.offset+l.span
		}
		copy(b.Append(l.r.times[l.i]+l.offset), l.r.values[l.i*nc:(l.i+1)*nc])
		l.i++
	}
	return ctx.Err()
}
