// Package replay runs the real recordings catalogued in
// internal/realdata through twitchd's whole pipeline (the detectors and
// the persistence rule, no history), as `twitchd replay` does with the
// flags each file needs: the guard that no real recording ends
// persistent, and the table `twitchd eval -real` prints.
package replay

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/all" // every format of the folder
	"github.com/twitchd/twitchd/internal/eval"
	"github.com/twitchd/twitchd/internal/realdata"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/session"
	"github.com/twitchd/twitchd/pipeline"
)

// Open decodes the recording in folder root with the options it needs.
func Open(root string, r realdata.Recording) (*decode.File, error) {
	o, err := r.Options(root)
	if err != nil {
		return nil, err
	}
	return decode.OpenFile(r.File(root), r.Format, o)
}

// Run runs src through the whole pipeline, as replay does without
// InfluxDB: the detectors and the persistence rule with no history (a
// single session of a person nobody knows), every event to col.
func Run(ctx context.Context, src pipeline.Source, col pipeline.Sink) (pipeline.Result, error) {
	return session.Run(ctx, src, session.Config{
		Subject: "realdata",
		Stages:  []pipeline.EventStage{rule.New(ctx, rule.DefaultConfig(), nil, nil)},
		Sinks:   []pipeline.Sink{col},
	})
}

// Outcome is what replaying one recording gave.
type Outcome struct {
	Recording realdata.Recording
	// Skipped says why the file was not run (NotAnalysable).
	Skipped string
	// Err is a decoding or pipeline failure.
	Err      error
	Duration time.Duration
	Channels int
	BadLines int64 // malformed lines skipped
	Twitches int
	// RestTwitches counts twitches outside activity (phase rest or
	// post_exercise): the ones the rule counts.
	RestTwitches   int
	Bouts, Cramps  int
	Status         pipeline.Status
	Reason         string
	StatusAssessed bool
}

// Alarm reports whether the recording ended persistent or
// persistent_with_symptoms: what no real recording of the folder may do.
func (o Outcome) Alarm() bool { return o.Status.Persistent() }

// Replay decodes the recording and runs it through the pipeline.
func Replay(ctx context.Context, root string, r realdata.Recording) Outcome {
	out := Outcome{Recording: r, Skipped: r.NotAnalysable}
	if r.NotAnalysable != "" {
		return out
	}
	f, err := Open(root, r)
	if err != nil {
		out.Err = err
		return out
	}
	defer f.Close()
	col := &eval.Collector{}
	res, err := Run(ctx, f, col)
	out.Err = err
	s := res.Summary
	out.Duration = time.Duration(s.End - s.Start)
	out.Channels = len(s.Channels)
	out.BadLines = s.SkippedLines
	out.Bouts, out.Cramps = s.Bouts, s.Cramps
	var last *pipeline.Assessment
	for _, ev := range col.Events {
		switch e := ev.(type) {
		case *pipeline.Twitch:
			out.Twitches++
			if e.Phase != pipeline.PhaseActivity {
				out.RestTwitches++
			}
		case *pipeline.Assessment:
			if last == nil || e.Time >= last.Time {
				last = e
			}
		}
	}
	if last != nil {
		out.Status, out.Reason, out.StatusAssessed = pipeline.Status(last.Status), last.Reason, true
	}
	return out
}

// ReplayAll replays every catalogued recording in folder root, in
// catalogue order, stopping early when ctx is done.
func ReplayAll(ctx context.Context, root string) []Outcome {
	var out []Outcome
	for _, r := range realdata.All() {
		if ctx.Err() != nil {
			break
		}
		out = append(out, Replay(ctx, root, r))
	}
	return out
}

// WriteTable prints one row per recording: what it holds, its length,
// the twitches (at rest), bouts and cramps found, and the final status,
// then the flags each file needs.
func WriteTable(w io.Writer, outs []Outcome) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "file\tsensors\tlength\ttwitches (at rest)\tbouts\tcramps\tstatus")
	alarms := 0
	for _, o := range outs {
		r := o.Recording
		switch {
		case o.Skipped != "":
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\tnot run: %s\n", r.Path, r.Sensors, o.Skipped)
			continue
		case o.Err != nil:
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\tERROR: %v\n", r.Path, r.Sensors, o.Duration.Round(time.Second), o.Err)
			continue
		}
		st := string(o.Status)
		if !o.StatusAssessed {
			st = "not assessed"
		}
		if o.Alarm() {
			st += " (ALARM)"
			alarms++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d (%d)\t%d\t%d\t%s\n", r.Path, r.Sensors, o.Duration.Round(100*time.Millisecond),
			o.Twitches, o.RestTwitches, o.Bouts, o.Cramps, st)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d of %d recordings end persistent or persistent_with_symptoms (the bar: none).\n", alarms, len(outs))
	fmt.Fprintln(w, "\nFlags each file needs (twitchd replay FLAGS FILE):")
	for _, o := range outs {
		if f := o.Recording.Flags(); f != "" {
			fmt.Fprintf(w, "  %s: %s\n", o.Recording.Path, f)
		}
	}
	return nil
}

// Reasons lists the final reason of each recording that raised an alarm.
func Reasons(outs []Outcome) string {
	var b strings.Builder
	for _, o := range outs {
		if o.Alarm() {
			fmt.Fprintf(&b, "%s: %s: %s\n", o.Recording.Path, o.Status, o.Reason)
		}
	}
	return b.String()
}

// Check replays every recording in dir (see ReplayAll), writes the
// table (see WriteTable) to w and returns how many recordings failed or
// ended persistent*, the guard's bar being none.
func Check(ctx context.Context, dir string, w io.Writer) (bad int, err error) {
	if err := realdata.CheckDir(dir); err != nil {
		return 0, err
	}
	outs := ReplayAll(ctx, dir)
	if err := WriteTable(w, outs); err != nil {
		return 0, err
	}
	for _, o := range outs {
		if o.Err != nil || o.Alarm() {
			bad++
		}
	}
	return bad, nil
}
