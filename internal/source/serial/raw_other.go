//go:build !linux

package serial

import "os"

// MakeRaw is a no-op outside Linux.
func MakeRaw(f *os.File) error { return nil }
