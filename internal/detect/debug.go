package detect

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/twitchd/twitchd/pipeline"
)

// debugf logs one decision at debug level with the recording time it is
// about, so `twitchd replay -v` explains why a burst was or was not taken
// for a twitch.
func (c *Config) debugf(t int64, format string, args ...any) {
	if c.Log == nil || !c.Log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	c.Log.Debug(fmt.Sprintf(format, args...), "at", pipeline.Timestamp(t).String())
}
