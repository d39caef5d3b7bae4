package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

func init() {
	register(&command{
		name:    "ports",
		summary: "list serial ports (USB adapters, /dev/serial/by-id names)",
		run:     runPorts,
	})
}

func runPorts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ports", "ports [-all]", stderr)
	all := fs.Bool("all", false, "also list the on-board /dev/ttyS* ports")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	n := listPorts(stdout, "/dev", *all)
	if n == 0 {
		fmt.Fprintln(stderr, "no serial ports found (is the device plugged in? is the user in the dialout group?)")
	}
	return nil
}

// listPorts writes the serial ports under dev, then the stable
// /dev/serial/by-id names with the port each points at, and returns how
// many lines it wrote.
func listPorts(w io.Writer, dev string, all bool) int {
	patterns := []string{"ttyUSB*", "ttyACM*", "rfcomm*"}
	if all {
		patterns = append(patterns, "ttyS*")
	}
	n := 0
	for _, p := range patterns {
		names, _ := filepath.Glob(filepath.Join(dev, p))
		sort.Slice(names, func(i, j int) bool { return natLess(names[i], names[j]) })
		for _, name := range names {
			fmt.Fprintln(w, name)
			n++
		}
	}
	ids, _ := filepath.Glob(filepath.Join(dev, "serial", "by-id", "*"))
	sort.Strings(ids)
	for _, id := range ids {
		target, err := filepath.EvalSymlinks(id)
		if err != nil {
			if _, lerr := os.Lstat(id); lerr == nil {
				target = "(dangling)"
			} else {
				continue
			}
		}
		fmt.Fprintf(w, "%s -> %s\n", id, target)
		n++
	}
	return n
}

// natLess orders ttyUSB2 before ttyUSB10.
func natLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
