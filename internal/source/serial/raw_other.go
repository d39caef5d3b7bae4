//go:build !linux

package serial

import "os"

// MakeRaw is a no-op outside Linux.
func MakeRaw(f *os.File) error { return nil }

// sameDevice reports whether a and b (from os.Stat) are the same file, as
// far as os.SameFile can tell on this system.
func sameDevice(a, b os.FileInfo) bool { return os.SameFile(a, b) }
