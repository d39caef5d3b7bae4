package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/all" // register every decoder
	"github.com/twitchd/twitchd/internal/ingest"
)

func init() {
	register(&command{
		name:    "replay",
		summary: "replay recorded session files through the detectors",
		run:     runReplay,
	})
}

// mapFlags collects repeated --map COLUMN=KIND:UNIT.
type mapFlags map[string]decode.Mapping

// String implements flag.Value.
func (m mapFlags) String() string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// Set implements flag.Value: it adds one COLUMN=KIND:UNIT (see
// decode.ParseMapping for scale, offset and transfer functions).
func (m mapFlags) Set(s string) error {
	col, spec, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(col) == "" {
		return fmt.Errorf("want COLUMN=KIND:UNIT, got %q", s)
	}
	mp, err := decode.ParseMapping(spec)
	if err != nil {
		return err
	}
	m[strings.ToLower(strings.TrimSpace(col))] = mp
	return nil
}

// columnFlag collects --columns NAME,NAME,...
type columnFlag []string

// String implements flag.Value.
func (c *columnFlag) String() string { return strings.Join(*c, ",") }

// Set implements flag.Value: a comma-separated list of names, each
// non-empty.
func (c *columnFlag) Set(s string) error {
	names := strings.Split(s, ",")
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
		if names[i] == "" {
			return fmt.Errorf("want NAME,NAME,... with no empty name, got %q", s)
		}
	}
	*c = names
	return nil
}

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", "replay [flags] FILE...", stderr)
	var cfg ingest.Config
	out := addOutputFlags(fs, &cfg)
	// file holds the decoding settings of every file.
	file := ingest.File{Options: decode.Options{Map: mapFlags{}}}
	var start string
	fs.StringVar(&file.Format, "format", "", "input format (default: detected from the content): "+strings.Join(decode.Formats(), ", "))
	fs.Float64Var(&file.Options.Rate, "rate", 0, "sample rate in Hz, for files without a time column (default: a '# Sampling Rate (Hz):= N' comment, if any)")
	fs.Var((*columnFlag)(&file.Options.Columns), "columns", "NAME,NAME,... names for the columns of a text file without a header row, e.g. emg or time,acc_x,acc_y,acc_z (its first line is data)")
	fs.StringVar(&start, "start", "", "recording start (RFC 3339), for files with relative or no times (default: the file's modification time)")
	fs.BoolVar(&file.Options.Strict, "strict", false, "stop at the first malformed line instead of skipping it")
	fs.Float64Var(&cfg.Speed, "speed", 0, "pace: 0 as fast as possible, 1 real time, N times real time")
	fs.Var(mapFlags(file.Options.Map), "map", "COLUMN=KIND:UNIT override, repeatable; kinds acc, emg, other; units g, mg, m/s2, V, mV, uV;\nraw counts: KIND:UNIT,scale=S,offset=O (raw·S+O in UNIT) or a transfer function emg:pluxN, emg:bitalinoN (N bits);\nCOLUMN may end in * to map every column it prefixes (emg_*)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "twitchd replay: no file given")
		fs.Usage()
		return errUsage
	}
	if cfg.Speed < 0 {
		fmt.Fprintln(stderr, "twitchd replay: --speed must be 0 or more")
		return errUsage
	}
	if start != "" {
		t, err := time.Parse(time.RFC3339Nano, start)
		if err != nil {
			fmt.Fprintf(stderr, "twitchd replay: --start: %v\n", err)
			return errUsage
		}
		file.Options.Start = t
	}
	for _, path := range fs.Args() {
		f := file
		f.Path = path
		cfg.Files = append(cfg.Files, f)
	}
	cfg.Stdout, cfg.Log = stdout, out.logger(stderr, slog.LevelWarn)
	cfg.Progress = stderr
	res, err := runIngest(ctx, "replay", cfg, stderr)
	if err != nil {
		return err
	}
	if err := res.LostError(); err != nil {
		return err
	}
	if n := res.Failed(); n > 0 {
		return fmt.Errorf("%d of %d files failed", n, fs.NArg())
	}
	return nil
}
