package events

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

// TestWriterOrdersByWatermark feeds events out of order, as detectors
// emit them, and checks the file is in start order, that nothing passes
// a watermark early, and that epochs are left out unless asked for.
func TestWriterOrdersByWatermark(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, false)
	write := func(ev pipeline.Event) {
		t.Helper()
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	write(&pipeline.Twitch{Start: 30, End: 31})
	write(&pipeline.Epoch{Start: 0, End: 5})
	write(&pipeline.Bout{Start: 10, End: 25}) // decided late: starts before the twitch
	write(&pipeline.Watermark{Time: 20})
	if err := w.w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, `"type":"bout"`) {
		t.Fatalf("after the watermark at 20 the file holds:\n%s\nwant only the bout", got)
	}
	write(&pipeline.Twitch{Start: 21, End: 22})
	write(&pipeline.Summary{Start: 0, End: 40})
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		ev, err := pipeline.UnmarshalEvent([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, ev.EventType()+"@"+ev.At().String()[17:])
	}
	want := "bout@00.000000010Z twitch@00.000000021Z twitch@00.000000030Z summary@00.000000040Z"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("order %s\nwant  %s", got, want)
	}
	if w.Count() != 4 || w.Held() != 0 {
		t.Errorf("count %d held %d", w.Count(), w.Held())
	}
}
