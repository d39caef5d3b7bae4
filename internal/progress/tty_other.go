//go:build !linux && !darwin && !freebsd && !openbsd && !netbsd

package progress

// isTTY says no where twitchd cannot ask: no progress is drawn there.
func isTTY(fd uintptr) bool { return false }
