package main

import (
	"context"
	"fmt"
	"io"

	"github.com/twitchd/twitchd/internal/source/serial"
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

// listPorts writes the serial ports under dev and returns how many lines
// it wrote.
func listPorts(w io.Writer, dev string, all bool) int {
	ports := serial.List(dev, all)
	for _, p := range ports {
		if p.Target != "" {
			fmt.Fprintf(w, "%s -> %s\n", p.Path, p.Target)
		} else {
			fmt.Fprintln(w, p.Path)
		}
	}
	return len(ports)
}
