package influxtest

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// sysProcAttr makes the kernel kill influxd if the test binary dies
// without running its cleanups (a panic in another goroutine, a timeout).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// waitState waits until /proc says process pid is stopped (want 'T') or
// running again (anything else), since a signal takes effect a moment
// after kill(2) returns. It gives up silently after a second.
func waitState(pid int, stopped bool) {
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	for i := 0; i < 1000; i++ {
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		// The state follows the command name in parentheses.
		if j := bytes.LastIndexByte(b, ')'); j >= 0 && j+2 < len(b) {
			if (b[j+2] == 'T') == stopped {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
}
