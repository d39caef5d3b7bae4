package serial

import (
	"os"
	"path/filepath"
	"sort"
)

// Listed is a serial port found by List.
type Listed struct {
	// Path is the device node, e.g. /dev/ttyUSB0, or a stable
	// /dev/serial/by-id name.
	Path string
	// Target is the node a by-id name points at ("(dangling)" when it
	// points at nothing); empty for a device node.
	Target string
}

// List returns the serial ports under dev (normally "/dev"): USB
// adapters, ACM devices and Bluetooth RFCOMM ports in natural order
// (ttyUSB2 before ttyUSB10), with the on-board ttyS* ports when all is
// set, then the stable /dev/serial/by-id names with the node each
// points at.
func List(dev string, all bool) []Listed {
	patterns := []string{"ttyUSB*", "ttyACM*", "rfcomm*"}
	if all {
		patterns = append(patterns, "ttyS*")
	}
	var out []Listed
	for _, p := range patterns {
		names, _ := filepath.Glob(filepath.Join(dev, p))
		sort.Slice(names, func(i, j int) bool { return natLess(names[i], names[j]) })
		for _, name := range names {
			out = append(out, Listed{Path: name})
		}
	}
	ids, _ := filepath.Glob(filepath.Join(dev, "serial", "by-id", "*"))
	sort.Strings(ids)
	for _, id := range ids {
		target, err := filepath.EvalSymlinks(id)
		if err != nil {
			if _, lerr := os.Lstat(id); lerr != nil {
				continue
			}
			target = "(dangling)"
		}
		out = append(out, Listed{Path: id, Target: target})
	}
	return out
}

// natLess orders ttyUSB2 before ttyUSB10.
func natLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
