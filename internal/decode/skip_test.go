package decode

import (
	"errors"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

func TestSkip(t *testing.T) {
	le := &pipeline.LineError{File: "rec", Offset: 512, Reason: "bad block checksum"}
	var stats pipeline.SourceStats
	if err := Skip(&stats, true, le); !errors.Is(err, le) || stats.Skipped != 0 {
		t.Errorf("strict: Skip = %v, %d skipped; want the LineError, none counted", err, stats.Skipped)
	}
	if err := Skip(&stats, false, le); err != nil || stats.Skipped != 1 || len(stats.Examples) != 1 || stats.Examples[0] != le {
		t.Errorf("lenient: Skip = %v, stats %+v; want nil, one skip kept as example", err, stats)
	}
}
