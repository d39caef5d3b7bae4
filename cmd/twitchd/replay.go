package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/all" // register every decoder
	"github.com/twitchd/twitchd/internal/session"
	"github.com/twitchd/twitchd/pipeline"
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

// replayFlags are the decoding settings of replay.
type replayFlags struct {
	format  string
	rate    float64
	start   string
	strict  bool
	speed   float64
	maps    mapFlags
	columns columnFlag
}

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", "replay [flags] FILE...", stderr)
	out := addOutputFlags(fs)
	rf := &replayFlags{maps: mapFlags{}}
	fs.StringVar(&rf.format, "format", "", "input format (default: detected from the content): "+strings.Join(decode.Formats(), ", "))
	fs.Float64Var(&rf.rate, "rate", 0, "sample rate in Hz, for files without a time column (default: a '# Sampling Rate (Hz):= N' comment, if any)")
	fs.Var(&rf.columns, "columns", "NAME,NAME,... names for the columns of a text file without a header row, e.g. emg or time,acc_x,acc_y,acc_z (its first line is data)")
	fs.StringVar(&rf.start, "start", "", "recording start (RFC 3339), for files with relative or no times (default: the file's modification time)")
	fs.BoolVar(&rf.strict, "strict", false, "stop at the first malformed line instead of skipping it")
	fs.Float64Var(&rf.speed, "speed", 0, "pace: 0 as fast as possible, 1 real time, N times real time")
	fs.Var(rf.maps, "map", "COLUMN=KIND:UNIT override, repeatable; kinds acc, emg, other; units g, mg, m/s2, V, mV, uV;\nraw counts: KIND:UNIT,scale=S,offset=O (raw·S+O in UNIT) or a transfer function emg:pluxN, emg:bitalinoN (N bits);\nCOLUMN may end in * to map every column it prefixes (emg_*)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "twitchd replay: no file given")
		fs.Usage()
		return errUsage
	}
	if rf.speed < 0 {
		fmt.Fprintln(stderr, "twitchd replay: --speed must be 0 or more")
		return errUsage
	}
	var start time.Time
	if rf.start != "" {
		t, err := time.Parse(time.RFC3339Nano, rf.start)
		if err != nil {
			fmt.Fprintf(stderr, "twitchd replay: --start: %v\n", err)
			return errUsage
		}
		start = t
	}
	log := out.logger(stderr)
	sinks, err := out.open(stdout, log)
	if err != nil {
		return err
	}
	stopHealth, err := out.serveHealth(sinks)
	if err != nil {
		sinks.close(context.Background())
		fmt.Fprintf(stderr, "twitchd replay: %v\n", err)
		return errUsage
	}
	defer stopHealth()
	failed := 0
	var prev influxCounts
	for _, path := range fs.Args() {
		if ctx.Err() != nil {
			break
		}
		opts := decode.Options{Rate: rf.rate, Start: start, Map: rf.maps, Strict: rf.strict, Columns: rf.columns}
		if opts.Start.IsZero() {
			if st, err := os.Stat(path); err == nil {
				opts.Start = st.ModTime().UTC()
			}
		}
		verdicts := &lastAssessment{}
		res, err := replayFile(ctx, path, rf.format, opts, sinks, session.Config{
			Subject: out.subject, Site: out.site, Session: out.session, Speed: rf.speed,
			Stages: sinks.stages(ctx), Sinks: append([]pipeline.Sink{verdicts}, sinks.sinks...), Log: log,
		})
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "twitchd replay: %v\n", err)
			if res.Summary.File == "" {
				continue
			}
		}
		cur := sinks.influxCounts()
		printSummary(stderr, res, cur.sub(prev), sinks.influx != nil)
		verdicts.print(stderr)
		prev = cur
	}
	// A replay that ran to its end sends the spool before it exits; one
	// stopped by a signal leaves it for the next start.
	sinks.finalDrain = finalDrainTimeout
	if ctx.Err() != nil {
		sinks.finalDrain = stopDrainTimeout
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	if err := sinks.close(cctx); err != nil {
		return err
	}
	if sinks.influx != nil {
		c := sinks.influxCounts()
		fmt.Fprintf(stderr, "influxdb: %d points written, %d failed (%d rejected, %d given up, %d dropped), %d retries\n",
			c.written, c.rejected+c.failed+c.dropped, c.rejected, c.failed, c.dropped, c.retries)
		sinks.printSpool(stderr)
		if c.rejected+c.failed+c.dropped > 0 {
			return fmt.Errorf("%d points did not reach InfluxDB", c.rejected+c.failed+c.dropped)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed", failed, fs.NArg())
	}
	return nil
}

// replayFile decodes the file at path and runs it as a session, counting
// its samples for /metrics.
func replayFile(ctx context.Context, path, format string, opts decode.Options, out *outputs, cfg session.Config) (pipeline.Result, error) {
	f, err := decode.OpenFile(path, format, opts)
	if err != nil {
		return pipeline.Result{}, err
	}
	defer f.Close()
	res, err := session.Run(ctx, out.metrics.source(f), cfg)
	logPanic(cfg.Log, err)
	return res, err
}

// printSpool reports what the spool took, sent and still holds.
func (out *outputs) printSpool(w io.Writer) {
	if out.durable == nil {
		return
	}
	st := out.durable.spool.Stats()
	sst := out.influx.Stats()
	fmt.Fprintf(w, "spool: %d points spooled, %d sent again, %d refused (full), %d waiting in %s\n",
		sst.Overflowed, st.Resent, st.Refused, st.Pending, out.durable.spool.Dir())
}

// influxCounts is a snapshot of the sink's counters.
type influxCounts struct{ written, rejected, failed, dropped, retries int64 }

func (a influxCounts) sub(b influxCounts) influxCounts {
	return influxCounts{a.written - b.written, a.rejected - b.rejected, a.failed - b.failed, a.dropped - b.dropped, a.retries - b.retries}
}

func (out *outputs) influxCounts() influxCounts {
	if out.influx == nil {
		return influxCounts{}
	}
	s := out.influx.Stats()
	return influxCounts{written: s.Written, rejected: s.Rejected, failed: s.Failed, dropped: s.Dropped, retries: s.Retries}
}

// printSummary writes the human summary of one file.
func printSummary(w io.Writer, res pipeline.Result, ic influxCounts, influx bool) {
	s := res.Summary
	dur := time.Duration(s.End - s.Start)
	var samples int64
	var chans []string
	for _, c := range s.Channels {
		samples += c.Samples
		chans = append(chans, fmt.Sprintf("%s %s %gHz", c.Name, c.Kind, c.RateHz))
	}
	fmt.Fprintf(w, "%s (%s): %s from %s to %s, %d samples in %d channels [%s]\n",
		s.File, s.Format, dur.Round(time.Millisecond), s.Start, s.End, samples, len(s.Channels), strings.Join(chans, ", "))
	if s.SkippedLines > 0 {
		fmt.Fprintf(w, "  skipped %d malformed lines; first: %s\n", s.SkippedLines, strings.Join(s.SkippedExamples, "; "))
	}
	if s.LostSamples > 0 {
		fmt.Fprintf(w, "  lost samples: %d\n", s.LostSamples)
	}
	fmt.Fprintf(w, "  bouts %d, twitch bursts %d, cramps %d", s.Bouts, s.Twitches, s.Cramps)
	if s.Interrupted {
		fmt.Fprint(w, " (interrupted)")
	}
	fmt.Fprintln(w)
	if influx {
		fmt.Fprintf(w, "  influxdb: %d points written, %d rejected, %d failed, %d dropped\n", ic.written, ic.rejected, ic.failed, ic.dropped)
	}
	if res.FirstSinkError != nil && !errors.Is(res.FirstSinkError, context.Canceled) {
		fmt.Fprintf(w, "  output errors: %d, first: %v\n", res.SinkErrors, res.FirstSinkError)
	}
}

// lastAssessment keeps the latest assessment of each subject and site of
// a stream, for the terminal summary.
type lastAssessment struct {
	order []string
	last  map[string]*pipeline.Assessment
}

// Write keeps assessments.
func (l *lastAssessment) Write(ev pipeline.Event) error {
	a, ok := ev.(*pipeline.Assessment)
	if !ok {
		return nil
	}
	if l.last == nil {
		l.last = map[string]*pipeline.Assessment{}
	}
	k := a.Subject + "/" + a.Site
	if _, seen := l.last[k]; !seen {
		l.order = append(l.order, k)
	}
	l.last[k] = a
	return nil
}

// Flush does nothing.
func (l *lastAssessment) Flush(context.Context) error { return nil }

// print writes each verdict with its advice and the notice.
func (l *lastAssessment) print(w io.Writer) {
	for i, k := range l.order {
		a := l.last[k]
		fmt.Fprintf(w, "  status %s: %s\n", a.Status, a.Reason)
		for _, adv := range a.Advice {
			fmt.Fprintf(w, "    - %s\n", adv)
		}
		if i == len(l.order)-1 {
			fmt.Fprintf(w, "  %s\n", a.Notice)
		}
	}
}
