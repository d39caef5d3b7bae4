//go:build !linux

package influxtest

import "syscall"

// sysProcAttr has nothing to add outside Linux.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// waitState has no way to look outside Linux.
func waitState(pid int, stopped bool) {}
