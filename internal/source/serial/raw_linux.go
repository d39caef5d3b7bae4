package serial

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// MakeRaw puts the terminal f into raw mode (no echo, no line editing, no
// output processing, 8 bits) at once (TCSANOW), so bytes already queued
// are kept. Use it on a pseudo-terminal's follower before handing its name
// out: with the defaults, the line discipline would echo the device's own
// output back to it and hold input until a newline.
func MakeRaw(f *os.File) error {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("serial: raw mode on %s: %w", f.Name(), err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("serial: raw mode on %s: %w", f.Name(), err)
	}
	return nil
}

// sameDevice reports whether a and b (from os.Stat) are the same device
// node: the same inode on the same file system (a node recreated by udev
// gets a new inode) and, for device files, the same device number.
func sameDevice(a, b os.FileInfo) bool {
	if !os.SameFile(a, b) {
		return false
	}
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return !ok1 || !ok2 || sa.Rdev == sb.Rdev
}
