//go:build !unix

package spool

import "errors"

// freeSpace is not known here: the spool then relies on the write's own
// error when the disk is full.
func freeSpace(string) (int64, error) { return 0, errors.ErrUnsupported }
