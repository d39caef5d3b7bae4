package cyton

import (
	"testing"

	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/pipeline"
)

// TestChannelOverrides renames Cyton channels from a device's settings
// and marks an unused EXG input as other (moved here from cmd/twitchd
// with the mapping).
func TestChannelOverrides(t *testing.T) {
	one, nine := 1, 9
	s := &Settings{Channels: []serial.Channel{{Index: &one, Name: "calf_emg"}, {Index: &nine, Name: "ay"}, {Index: new(int), Kind: "other"}}}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	chs := []pipeline.Channel{{Name: "exg0", Kind: pipeline.KindEMG}, {Name: "exg1", Kind: pipeline.KindEMG}}
	for i := 2; i < 11; i++ {
		chs = append(chs, pipeline.Channel{Kind: pipeline.KindEMG})
	}
	s.rename()(chs)
	if chs[1].Name != "calf_emg" || chs[9].Name != "ay" || chs[0].Kind != pipeline.KindOther || chs[1].Kind != pipeline.KindEMG {
		t.Fatalf("overridden %+v", chs[:2])
	}
	if (&Settings{}).rename() != nil {
		t.Fatal("no channel settings, yet a rename")
	}
	if err := (&Settings{Channels: []serial.Channel{{Index: &nine, Kind: "emg"}}}).Check(); err == nil {
		t.Fatal("an accelerometer channel accepted as emg")
	}
}
