package detect

import (
	"fmt"
	"os"
	"time"
)

var debugOn = os.Getenv("TWITCHD_DETECT_DEBUG") != ""

func debugf(t int64, format string, args ...any) {
	if debugOn {
		fmt.Fprintf(os.Stderr, "DBG %s "+format+"\n", append([]any{time.Unix(0, t).UTC().Format("15:04:05.000")}, args...)...)
	}
}
