package sourcetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/pipeline"
)

// counter is a one-channel Source of n frames valued 0..n-1 that fails
// with err after them (io.EOF for a clean end). eofFrames > 0 makes the
// final io.EOF come with that many frames, breaking the contract.
type counter struct {
	n, i      int
	err       error
	eofFrames int
}

func (c *counter) Meta() pipeline.Meta {
	return pipeline.Meta{Channels: []pipeline.Channel{{Name: "x"}}}
}

func (c *counter) Stats() pipeline.SourceStats { return pipeline.SourceStats{} }

func (c *counter) Next(_ context.Context, b *pipeline.Batch) error {
	b.Reset()
	for c.i < c.n && !b.Full() {
		b.Append(int64(c.i))[0] = float64(c.i)
		c.i++
	}
	if c.i < c.n {
		return nil
	}
	if errors.Is(c.err, io.EOF) {
		for range c.eofFrames {
			b.Append(-1)[0] = -1
		}
		if b.Len() > 0 && c.eofFrames == 0 {
			return nil // deliver the last frames before io.EOF
		}
	}
	return c.err
}

func TestReadAll(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name     string
		src      *counter
		capacity int
		frames   int
		err      error
	}{
		{"clean end across batch boundaries", &counter{n: 10, err: io.EOF}, 3, 10, nil},
		{"empty source", &counter{n: 0, err: io.EOF}, 4, 0, nil},
		{"frames before an error are kept", &counter{n: 7, err: boom}, 4, 7, boom},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAll(t, tc.src, tc.capacity)
			if !errors.Is(err, tc.err) || err != nil && tc.err == nil {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if len(got) != tc.frames {
				t.Fatalf("%d frames, want %d", len(got), tc.frames)
			}
			for i, f := range got {
				if f.Time != int64(i) || len(f.Values) != 1 || f.Values[0] != float64(i) {
					t.Errorf("frame %d = %+v: values were not copied out of the reused batch", i, f)
				}
			}
		})
	}
}

// TestReadAllContract checks that io.EOF with frames in the batch fails
// the test, as the Source contract forbids it.
func TestReadAllContract(t *testing.T) {
	rec := &recorder{TB: t}
	ReadAll(rec, &counter{n: 2, err: io.EOF, eofFrames: 1}, 4)
	if rec.msg == "" {
		t.Error("io.EOF with a frame in the batch went unnoticed")
	}
}

// TestFrames checks that Frames fails the test on a source error.
func TestFrames(t *testing.T) {
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() { // Fatalf ends the goroutine with runtime.Goexit, as in a test.
		defer close(done)
		Frames(rec, &counter{n: 3, err: errors.New("broken pipe")})
	}()
	<-done
	if rec.msg != "sourcetest: after 3 frames: broken pipe" {
		t.Errorf("Frames reported %q", rec.msg)
	}
	if fr := Frames(t, &counter{n: 100, err: io.EOF}); len(fr) != 100 {
		t.Errorf("Frames read %d, want 100", len(fr))
	}
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) { r.msg = fmt.Sprintf(format, args...) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// backwards is a one-channel Source whose third frame goes back in time.
type backwards struct{ counter }

func (s *backwards) Next(ctx context.Context, b *pipeline.Batch) error {
	err := s.counter.Next(ctx, b)
	for i := range b.Frames {
		if b.Frames[i].Time == 2 {
			b.Frames[i].Time = 0
		}
	}
	return err
}

// TestCheck checks that Check counts a good source and fails on time
// going back, on a value valid refuses, and on a source that never ends.
func TestCheck(t *testing.T) {
	if n, err := Check(t, &counter{n: 10, err: io.EOF}, 3, 100, Finite); n != 10 || !errors.Is(err, io.EOF) {
		t.Errorf("Check = %d, %v; want 10, io.EOF", n, err)
	}
	cases := []struct {
		name  string
		src   pipeline.Source
		calls int
		valid func(int, float64) bool
		want  string
	}{
		{"time goes back", &backwards{counter{n: 5, err: io.EOF}}, 100, nil, "time goes backwards: 0 after 1"},
		{"value refused", &counter{n: 5, err: io.EOF}, 100, func(_ int, v float64) bool { return v < 3 }, "value 3 in channel 0"},
		{"never ends", &counter{n: 1000, err: io.EOF}, 10, nil, "source did not end after 10 calls to Next"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				Check(rec, tc.src, 4, tc.calls, tc.valid)
			}()
			<-done
			if rec.msg != tc.want {
				t.Errorf("Check reported %q, want %q", rec.msg, tc.want)
			}
		})
	}
	if n, err := Count(&counter{n: 7, err: io.EOF}, pipeline.NewBatch(1, 3)); n != 7 || !errors.Is(err, io.EOF) {
		t.Errorf("Count = %d, %v; want 7, io.EOF", n, err)
	}
}

// TestOpen checks that Open hands the file's bytes to open, and fails
// the test naming a missing file.
func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.txt")
	if err := os.WriteFile(path, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := Open(t, path, func(r io.Reader) (string, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
	if got != "abc" {
		t.Errorf("Open gave %q, want the file's bytes", got)
	}
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Open(rec, path+".missing", func(io.Reader) (int, error) { return 0, nil })
	}()
	<-done
	if !strings.Contains(rec.msg, "rec.txt.missing") {
		t.Errorf("missing file reported as %q", rec.msg)
	}
}

func (r *recorder) Fatal(args ...any) {
	r.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

// TestDetected registers a toy format that claims files starting with
// "TOY" and checks that Detected passes it and fails a wrong name.
func TestDetected(t *testing.T) {
	decode.Register(decode.Format{
		Name: "sourcetest-toy",
		Sniff: func(head []byte, _ string) int {
			if strings.HasPrefix(string(head), "TOY") {
				return 1
			}
			return 0
		},
		Open: func(_ io.Reader, opts decode.Options) (pipeline.Source, error) {
			return &toy{counter{n: 3, err: io.EOF}, opts.Name}, nil
		},
	})
	path := filepath.Join(t.TempDir(), "rec.toy")
	if err := os.WriteFile(path, []byte("TOY\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	Detected(t, path, "sourcetest-toy", 2)
	wrong := &recorder{TB: t}
	Detected(wrong, path, "csv", 2)
	if !strings.Contains(wrong.msg, `format "sourcetest-toy"`) {
		t.Errorf("wrong format reported as %q", wrong.msg)
	}
}

// toy is a counter whose Meta names its format and file.
type toy struct {
	counter
	file string
}

func (s *toy) Meta() pipeline.Meta {
	m := s.counter.Meta()
	m.Format, m.File = "sourcetest-toy", s.file
	return m
}
