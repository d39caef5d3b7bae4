// Package realdata is the catalogue of the public real recordings that
// twitchd is checked on. They live outside the repository, in
// ../shared/data/real beside the module root (PROVENANCE.md there says
// where each comes from), and are never copied into it. For every file
// the catalogue says how to decode it (the replay flags it needs), which
// sensors it holds and what the person was doing when (rest and activity
// stretches), so that tests, `twitchd eval -real` and the hybrid
// recordings (internal/hybrid) all read the files the same way.
package realdata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
)

// EnvDir names the environment variable that overrides where Root looks.
const EnvDir = "TWITCHD_REALDATA"

// ErrAbsent is returned by Root when the folder is not there.
var ErrAbsent = errors.New("realdata: real recordings folder absent")

// Root finds the real-recordings folder: $TWITCHD_REALDATA when set, else
// ../shared/data/real beside the first directory holding a go.mod above
// the working directory. It wraps ErrAbsent, naming the path it looked
// for, when there is none.
func Root() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return checkDir(d)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("realdata: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: no module root (go.mod) above the working directory", ErrAbsent)
		}
		dir = parent
	}
	return checkDir(filepath.Join(dir, "..", "shared", "data", "real"))
}

func checkDir(d string) (string, error) {
	st, err := os.Stat(d)
	if err != nil || !st.IsDir() {
		return "", fmt.Errorf("%w: %s", ErrAbsent, d)
	}
	return d, nil
}

// Sensors says what a recording holds.
type Sensors uint8

// Sensor bits.
const (
	EMG Sensors = 1 << iota // surface EMG (or EMG on EEG electrodes)
	Acc                     // a three-axis accelerometer
)

// String lists the sensors: "emg", "acc", "emg+acc" or "none".
func (s Sensors) String() string {
	var parts []string
	if s&EMG != 0 {
		parts = append(parts, "emg")
	}
	if s&Acc != 0 {
		parts = append(parts, "acc")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// Stretch is a span of a recording, in time from its first sample,
// during which the person was at rest or active.
type Stretch struct {
	From, To time.Duration
	Active   bool
	// Note says what happens and how it is known (PROVENANCE.md, the
	// file's own labels, or its signal envelope).
	Note string
}

// Recording is one file of the folder and how to read it.
type Recording struct {
	// Path is the file's path inside the folder, slash-separated.
	Path string
	// Format forces a decoder; empty: detected from the content.
	Format string
	// Rate is --rate (Hz), for files without a time column that do not
	// state their rate; 0 otherwise.
	Rate float64
	// Columns is --columns, for text without a header row.
	Columns []string
	// Map is --map: COLUMN=MAPPING values as decode.ParseMapping reads
	// them, in order.
	Map []string
	// Sensors are the kinds of the channels that deliver samples (the
	// Ganglion's accelerometer channels, switched off, deliver none).
	Sensors Sensors
	// Contents describes the recording (from PROVENANCE.md).
	Contents string
	// Stretches cover the recording in order: rest and activity.
	Stretches []Stretch
	// SameAs names another catalogued file holding the same samples in
	// another format (an export, an older layout): the guard replays
	// both, the hybrid runs only the other.
	SameAs string
	// NotAnalysable, when set, says why the pipeline cannot run this
	// file (a decoder fixture without an EMG or accelerometer channel):
	// the guard and the hybrid runs skip it, saying so.
	NotAnalysable string
}

// Start is the recording start given to files without an absolute time,
// so that every run of the catalogue gives the same times (the command
// line uses the file's modification time instead).
var Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// Options returns the decode options for the file in folder root.
func (r Recording) Options(root string) (decode.Options, error) {
	o := decode.Options{Name: r.File(root), Rate: r.Rate, Start: Start, Columns: r.Columns}
	for _, m := range r.Map {
		col, spec, ok := strings.Cut(m, "=")
		if !ok {
			return o, fmt.Errorf("realdata: %s: map %q is not COLUMN=MAPPING", r.Path, m)
		}
		mp, err := decode.ParseMapping(spec)
		if err != nil {
			return o, fmt.Errorf("realdata: %s: map %q: %w", r.Path, m, err)
		}
		if o.Map == nil {
			o.Map = map[string]decode.Mapping{}
		}
		o.Map[strings.ToLower(col)] = mp
	}
	return o, nil
}

// File is the recording's path under root.
func (r Recording) File(root string) string {
	return filepath.Join(root, filepath.FromSlash(r.Path))
}

// Flags returns the replay flags the file needs, as a user types them
// (values quoted for a POSIX shell where needed).
func (r Recording) Flags() string {
	var f []string
	if r.Format != "" {
		f = append(f, "--format "+r.Format)
	}
	if r.Rate != 0 {
		f = append(f, fmt.Sprintf("--rate %g", r.Rate))
	}
	if len(r.Columns) > 0 {
		f = append(f, "--columns "+shellQuote(strings.Join(r.Columns, ",")))
	}
	for _, m := range r.Map {
		f = append(f, "--map "+shellQuote(m))
	}
	return strings.Join(f, " ")
}

// shellQuote single-quotes s when it holds characters a shell treats
// specially.
func shellQuote(s string) string {
	if strings.ContainsAny(s, " *?[]'\"$`\\|&;<>()") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// Rest returns the rest stretches.
func (r Recording) Rest() []Stretch {
	var out []Stretch
	for _, s := range r.Stretches {
		if !s.Active {
			out = append(out, s)
		}
	}
	return out
}

// ActiveAt reports whether t (from the first sample) falls in an
// activity stretch.
func (r Recording) ActiveAt(t time.Duration) bool {
	for _, s := range r.Stretches {
		if t >= s.From && t < s.To {
			return s.Active
		}
	}
	return false
}

// Find returns the catalogued recording at path (slash-separated, inside
// the folder).
func Find(path string) (Recording, bool) {
	for _, r := range All() {
		if r.Path == path {
			return r, true
		}
	}
	return Recording{}, false
}

// CheckDir says clearly when dir is not the real-recordings folder (it
// has no PROVENANCE.md).
func CheckDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "PROVENANCE.md")); err != nil {
		return fmt.Errorf("%s is not the real-recordings folder (no PROVENANCE.md): %w", dir, err)
	}
	return nil
}
