package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/chart"
	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/recplot"
)

func init() {
	register(&command{
		name:    "plot",
		summary: "draw a recording: filtered EMG, envelope, acceleration, bouts, rest, twitches, cramps, status",
		run:     runPlot,
	})
}

func runPlot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plot", "plot [--out FILE.png|.svg] [--from T] [--to T] FILE", stderr)
	out := fs.String("out", "", "picture to write, .png or .svg (default: FILE with .png)")
	from := fs.String("from", "", "start of the range shown: an offset into the recording (90s, 2m30s) or an RFC 3339 time")
	to := fs.String("to", "", "end of the range shown, as --from")
	format := fs.String("format", "", "input format (default: detected from the content): "+strings.Join(decode.Formats(), ", "))
	rate := fs.Float64("rate", 0, "sample rate in Hz, for files without a time column")
	start := fs.String("start", "", "recording start (RFC 3339), for files with relative or no times")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "twitchd plot: give one recording")
		fs.Usage()
		return errUsage
	}
	path := fs.Arg(0)
	if *out == "" {
		*out = strings.TrimSuffix(path, filepath.Ext(path)) + ".png"
	}
	imgFormat, err := chart.Format(*out)
	if err != nil {
		fmt.Fprintf(stderr, "twitchd plot: --out: %v\n", err)
		return errUsage
	}
	opts := recplot.Options{Format: *format, From: *from, To: *to, Decode: decode.Options{Rate: *rate}}
	if *start != "" {
		t, err := time.Parse(time.RFC3339Nano, *start)
		if err != nil {
			fmt.Fprintf(stderr, "twitchd plot: --start: %v\n", err)
			return errUsage
		}
		opts.Decode.Start = t
	}
	rec, err := recplot.Read(ctx, path, opts)
	if err != nil {
		return err
	}
	b, err := rec.Draw(imgFormat, recplot.Width, recplot.Height)
	if err != nil {
		return err
	}
	if err := chart.WriteFile(*out, b); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s of %s, %d twitches, %d bouts, %d cramps\n", *out, rec.Duration().Round(time.Millisecond),
		filepath.Base(path), len(rec.Twitches), len(rec.Bouts), len(rec.Cramps))
	return nil
}
