package replay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/realdata"
	realtest "github.com/twitchd/twitchd/internal/testutil/realdata"
	"github.com/twitchd/twitchd/pipeline"
)

// TestGuardNoAlarmOnRealRecordings is issue 9's guard on real data: every
// recording of the folder (a volunteer at rest or doing ordinary tasks,
// nobody known to twitch) is replayed with the flags it needs through the
// detectors and the persistence rule with no history, and none may end
// persistent or persistent_with_symptoms. It logs the table `twitchd eval
// -real` prints: twitches, bouts, cramps and final status per file.
func TestGuardNoAlarmOnRealRecordings(t *testing.T) {
	if testing.Short() {
		t.Skip("replays every real recording (about 20 s)")
	}
	dir := realtest.Dir(t)
	outs := ReplayAll(context.Background(), dir)
	var buf bytes.Buffer
	if err := WriteTable(&buf, outs); err != nil {
		t.Fatal(err)
	}
	t.Logf("replayed %d recordings from %s:\n%s", len(outs), dir, buf.String())
	for _, o := range outs {
		switch {
		case o.Skipped != "":
		case o.Err != nil:
			t.Errorf("%s: %v", o.Recording.Path, o.Err)
		case !o.StatusAssessed:
			t.Errorf("%s: no assessment", o.Recording.Path)
		case o.Alarm():
			t.Errorf("%s ends %s (%d twitches, %d at rest, %d bouts, %d cramps): %s",
				o.Recording.Path, o.Status, o.Twitches, o.RestTwitches, o.Bouts, o.Cramps, o.Reason)
		}
	}
}

// TestCatalogueMatchesFiles decodes every analysable recording with its
// catalogued options: the sensors it delivers are the catalogued ones,
// nothing is skipped as malformed, and its stretches end within 5 s after
// its last sample.
func TestCatalogueMatchesFiles(t *testing.T) {
	dir := realtest.Dir(t)
	for _, r := range realdata.All() {
		if r.NotAnalysable != "" {
			continue
		}
		t.Run(r.Path, func(t *testing.T) {
			f, err := Open(dir, r)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var got realdata.Sensors // kinds of the channels that deliver samples
			chans := f.Meta().Channels
			first, last := int64(-1), int64(0)
			b := pipeline.NewBatch(len(chans), 1024)
			for {
				err := f.Next(context.Background(), b)
				for _, fr := range b.Frames {
					if first < 0 {
						first = fr.Time
					}
					last = fr.Time
					for i, v := range fr.Values {
						switch {
						case pipeline.IsNoSample(v):
						case chans[i].Kind == pipeline.KindEMG:
							got |= realdata.EMG
						case chans[i].Kind == pipeline.KindAcc:
							got |= realdata.Acc
						}
					}
				}
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if got != r.Sensors {
				t.Errorf("sensors with samples %v, catalogued %v", got, r.Sensors)
			}
			if n := f.Stats().Skipped; n > 0 {
				t.Errorf("%d malformed lines: %v", n, f.Stats().Examples)
			}
			dur := time.Duration(last - first)
			end := r.Stretches[len(r.Stretches)-1].To
			if end < dur || end > dur+5*time.Second {
				t.Errorf("stretches end at %v, the recording lasts %v", end, dur)
			}
		})
	}
}
