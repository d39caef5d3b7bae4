package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteTotals writes, for people, what InfluxDB and the spool took in
// the whole run; nothing without either.
func (res *Result) WriteTotals(w io.Writer) {
	if c := res.Influx; c != nil {
		fmt.Fprintf(w, "influxdb: %d points written, %d failed (%d rejected, %d given up, %d dropped), %d retries\n",
			c.Written, c.Lost(), c.Rejected, c.Failed, c.Dropped, c.Retries)
	}
	if sp := res.Spool; sp != nil {
		fmt.Fprintf(w, "spool: %d points spooled, %d sent again, %d refused (full), %d waiting in %s\n",
			sp.Spooled, sp.Resent, sp.Refused, sp.Pending, sp.Dir)
	}
}

// WriteText writes the summary of one stream for people: its length and
// channels, skipped lines, lost samples, a segment ended by a clock step,
// the events found, what InfluxDB took (when influx), output errors,
// the verdicts with their advice and notice, and the serial link's
// counters.
func (sr StreamResult) WriteText(w io.Writer, influx bool) {
	s := sr.Summary
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
	if s.ClockStepS != 0 {
		step := time.Duration(s.ClockStepS * float64(time.Second)).Round(time.Millisecond)
		sign := "+"
		if step < 0 {
			sign = ""
		}
		fmt.Fprintf(w, "  segment %d ended when the host clock stepped by %s%v: its times were measured on the clock before the step (add %s%v to correct them); the next segment follows the clock as stepped\n",
			s.Segment, sign, step, sign, step)
	}
	fmt.Fprintf(w, "  bouts %d, twitch bursts %d, cramps %d", s.Bouts, s.Twitches, s.Cramps)
	if s.Interrupted {
		fmt.Fprint(w, " (interrupted)")
	}
	fmt.Fprintln(w)
	if ic := sr.Influx; influx && ic != nil {
		fmt.Fprintf(w, "  influxdb: %d points written, %d rejected, %d failed, %d dropped\n", ic.Written, ic.Rejected, ic.Failed, ic.Dropped)
	}
	if sr.FirstSinkError != nil && !errors.Is(sr.FirstSinkError, context.Canceled) {
		fmt.Fprintf(w, "  output errors: %d, first: %v\n", sr.SinkErrors, sr.FirstSinkError)
	}
	for i, a := range sr.Verdicts {
		fmt.Fprintf(w, "  status %s: %s\n", a.Status, a.Reason)
		for _, adv := range a.Advice {
			fmt.Fprintf(w, "    - %s\n", adv)
		}
		if i == len(sr.Verdicts)-1 {
			fmt.Fprintf(w, "  %s\n", a.Notice)
		}
	}
	if d := sr.Serial; d != nil {
		fmt.Fprintf(w, "  serial: %d bytes, %d connections, %d losses; lost samples %d by counter, %d by clock in %d gaps; %d counter resets\n",
			d.Conn.Bytes, d.Conn.Connects, d.Conn.Losses, d.Stream.CounterLost, d.Stream.ClockLost, d.Stream.ClockGaps, d.Stream.Resets)
	}
}
