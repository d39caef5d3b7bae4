package recplot

import (
	"bytes"
	"context"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/chart"
	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/all"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/session"
	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/internal/sink/events"
	"github.com/twitchd/twitchd/pipeline"
)

// recording writes the bundled calf session (4 min: running, rest with
// twitches, resumed running) and returns its path.
func recording(t *testing.T) string {
	t.Helper()
	sc, err := simulate.Preset("bundled-calf")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "calf.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := simulate.Generate(sc, 1, f); err != nil {
		t.Fatal(err)
	}
	return path
}

// replay runs the file as `twitchd replay` would (no history) and
// returns its events, the reference the picture must agree with.
func replay(t *testing.T, path string) []pipeline.Event {
	t.Helper()
	col := &events.Collector{}
	_, err := session.ReplayFile(context.Background(), path, "", decode.Options{}, session.Config{
		Subject: "x", Stages: []pipeline.EventStage{rule.New(context.Background(), rule.DefaultConfig(), nil, nil)},
		Sinks: []pipeline.Sink{col}})
	if err != nil {
		t.Fatal(err)
	}
	return col.Events
}

func TestReadAgreesWithReplay(t *testing.T) {
	path := recording(t)
	evs := replay(t, path)
	rec, err := Read(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var twitches, confirmed, bouts, rests int
	var final *pipeline.Assessment
	var bout *pipeline.Bout
	var rest *pipeline.Rest
	for _, ev := range evs {
		switch x := ev.(type) {
		case *pipeline.Twitch:
			twitches++
			if x.Confirmed {
				confirmed++
			}
		case *pipeline.Bout:
			bouts++
			if bout == nil {
				bout = x
			}
		case *pipeline.Rest:
			rests++
			if rest == nil {
				rest = x
			}
		case *pipeline.Assessment:
			final = x
		}
	}
	got := 0
	for _, tw := range rec.Twitches {
		if tw.Confirmed {
			got++
		}
	}
	if len(rec.Twitches) != twitches || got != confirmed || len(rec.Bouts) != bouts || len(rec.Rests) != rests {
		t.Errorf("picture: %d twitches (%d confirmed), %d bouts, %d rests; replay: %d (%d), %d, %d",
			len(rec.Twitches), got, len(rec.Bouts), len(rec.Rests), twitches, confirmed, bouts, rests)
	}
	if rec.Final == nil || final == nil || rec.Final.Status != final.Status || rec.Final.Reason != final.Reason {
		t.Errorf("final status %+v, replay's %+v", rec.Final, final)
	}
	if len(rec.EMG) != 1 || len(rec.Acc) != 1 {
		t.Fatalf("%d EMG and %d accelerometer traces, want 1 and 1", len(rec.EMG), len(rec.Acc))
	}
	emg, acc := rec.EMG[0], rec.Acc[0]
	if n := len(emg.T); n > 2*Buckets || n < Buckets/2 {
		t.Errorf("EMG trace has %d columns, want between %d and %d", n, Buckets/2, 2*Buckets)
	}
	// The filtered EMG is large during the vigorous bout and small in the
	// quiet middle of the rest; the accelerometer reads about 1 g at rest.
	exercise := peak(emg, bout.Start, bout.End)
	quiet := peak(emg, rest.Start+pipeline.Timestamp(40*time.Second), rest.Start+pipeline.Timestamp(45*time.Second))
	if !(exercise > 5*quiet) || quiet <= 0 {
		t.Errorf("EMG peak %.3f mV in the bout, %.3f mV at rest: the filter or the trace is wrong", exercise, quiet)
	}
	if g := peak(acc, rest.Start+pipeline.Timestamp(40*time.Second), rest.Start+pipeline.Timestamp(45*time.Second)); g < 0.95 || g > 1.1 {
		t.Errorf("acceleration at rest peaks at %.3f g, want about 1", g)
	}
}

// peak returns the largest |value| of tr between a and b.
func peak(tr Trace, a, b pipeline.Timestamp) float64 {
	m := 0.0
	for i, t := range tr.T {
		if t >= int64(a) && t < int64(b) && !math.IsNaN(tr.Hi[i]) {
			m = math.Max(m, math.Max(math.Abs(tr.Hi[i]), math.Abs(tr.Lo[i])))
		}
	}
	return m
}

func TestZoom(t *testing.T) {
	path := recording(t)
	rec, err := Read(context.Background(), path, Options{From: "95s", To: "125s"})
	if err != nil {
		t.Fatal(err)
	}
	start := simulate.DefaultStart
	if !rec.From.Equal(start.Add(95*time.Second)) || !rec.To.Equal(start.Add(125*time.Second)) {
		t.Errorf("range %v to %v, want 95 s to 125 s after %v", rec.From, rec.To, start)
	}
	for _, tw := range rec.Twitches {
		if tw.End.Time().Before(rec.From) || tw.Start.Time().After(rec.To) {
			t.Errorf("twitch at %v outside the range", tw.Start)
		}
	}
	if len(rec.Twitches) == 0 {
		t.Error("no twitch in the first 30 s of rest")
	}
	tr := rec.EMG[0]
	if first, last := time.Unix(0, tr.T[0]), time.Unix(0, tr.T[len(tr.T)-1]); first.Before(rec.From) || last.After(rec.To) {
		t.Errorf("trace from %v to %v, outside the range", first, last)
	}
	for _, c := range []struct{ from, to, want string }{
		{"yesterday", "", "neither an offset"},
		{"10m", "11m", "nothing between"},
	} {
		if _, err := Read(context.Background(), path, Options{From: c.from, To: c.to}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("from %q to %q: %v, want %q", c.from, c.to, err, c.want)
		}
	}
}

func TestDraw(t *testing.T) {
	rec, err := Read(context.Background(), recording(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := rec.Draw("png", Width, Height)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if s := img.Bounds().Size(); s.X != 1728 || s.Y != 1152 {
		t.Errorf("PNG %v, want 1728x1152 (12x8 in at 144 dpi)", s)
	}
	svg, err := rec.Draw("svg", Width, Height)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "final status: " + rec.Final.Status, "twitch EMG", "confirmed by both"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if _, err := rec.Draw("gif", Width, Height); err == nil {
		t.Error("gif accepted")
	}
	if _, err := chart.Format("x.jpg"); err == nil {
		t.Error(".jpg accepted as an output")
	}
}

// TestBucketsBounded feeds a long signal: the columns stay bounded and
// the extremes survive the merging.
func TestBucketsBounded(t *testing.T) {
	b := newBuckets(int64(time.Millisecond), true)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := 0; i < 1_000_000; i++ {
		v := math.Sin(float64(i)*0.001) * float64(i%997)
		lo, hi = math.Min(lo, v), math.Max(hi, v)
		b.add(int64(i)*int64(time.Millisecond), v, math.Abs(v))
	}
	tr := b.trace("x", "u")
	if len(tr.T) > 2*Buckets || len(tr.T) < Buckets {
		t.Errorf("%d columns for 1e6 samples, want %d..%d", len(tr.T), Buckets, 2*Buckets)
	}
	glo, ghi := math.Inf(1), math.Inf(-1)
	for i := range tr.Lo {
		glo, ghi = math.Min(glo, tr.Lo[i]), math.Max(ghi, tr.Hi[i])
	}
	if glo != lo || ghi != hi {
		t.Errorf("extremes %v..%v after merging, want %v..%v", glo, ghi, lo, hi)
	}
}
