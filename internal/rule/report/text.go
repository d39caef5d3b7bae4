package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// WriteJSON writes rep as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// WriteText writes rep for people: per site the status and why, how the
// status evolved (the timeline), the recordings in a table, the advice;
// then logged symptoms and the notice.
func (rep *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "twitchd report for %s, %s to %s\n", rep.Subject, day(rep.Since), day(rep.Until))
	if len(rep.Sites) == 0 {
		fmt.Fprintf(ew, "\nNo recordings in this period.\n")
	}
	for _, s := range rep.Sites {
		writeSite(ew, s)
	}
	if len(rep.Symptoms) > 0 {
		fmt.Fprintf(ew, "\nSymptoms logged\n")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		for _, s := range rep.Symptoms {
			where := s.Site
			if where == "" {
				where = "-"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", clock(s.Time), s.Symptom, where, s.Text)
		}
		tw.Flush()
	}
	fmt.Fprintf(ew, "\n%s\n", wrap(rep.Notice, 76, ""))
	return ew.err
}

func writeSite(w io.Writer, s Site) {
	fmt.Fprintf(w, "\n%s\n", siteName(s.Site))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  status\t%s\n", s.Status)
	fmt.Fprintf(tw, "  why\t%s\n", s.Reason)
	if s.Stored != nil {
		fmt.Fprintf(tw, "  stored\t%s at %s\n", s.Stored.Status, clock(s.Stored.Time))
	}
	tw.Flush()
	writeTimeline(w, s.Timeline)
	if len(s.Sessions) > 0 {
		fmt.Fprintf(w, "\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  start\tmin\tbouts\texercise min\ttwitches\tbefore/min\tafter/min\tcramps\t  status\t\n")
		for _, x := range s.Sessions {
			fmt.Fprintf(tw, "  %s\t%.0f\t%d\t%.0f\t%d\t%s\t%s\t%d\t  %s\t\n", clock(x.Start),
				time.Duration(x.End-x.Start).Minutes(), x.Bouts, x.BoutMinutes, x.Twitches,
				opt(x.RateBefore), opt(x.RateAfter), x.Cramps, x.Status)
		}
		tw.Flush()
	}
	if len(s.Advice) > 0 {
		fmt.Fprintf(w, "\n  Advice\n")
		for _, a := range s.Advice {
			fmt.Fprintf(w, "  - %s\n", wrap(a.Text, 72, "    "))
			if a.Why != "" {
				fmt.Fprintf(w, "    (%s)\n", a.Why)
			}
		}
	}
}

// writeTimeline lists the assessments of the period, each with its
// summary on a second line.
func writeTimeline(w io.Writer, tl []Entry) {
	if len(tl) == 0 {
		return
	}
	fmt.Fprintf(w, "\n  How the status evolved\n")
	for _, e := range tl {
		end := ""
		if e.Final {
			end = "  (end of recording)"
		}
		fmt.Fprintf(w, "  %s  %s%s\n      %s\n", clock(e.Time), e.Status, end, wrap(e.Summary, 70, "      "))
	}
}

func siteName(s string) string {
	if s == "" {
		return "(no site)"
	}
	return s
}

func opt(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *v)
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

func clock(t pipeline.Timestamp) string { return t.Time().Format("2006-01-02 15:04") }

// wrap breaks s into lines of at most width runes, indenting the
// continuation lines.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		if i > 0 && n+1+len(word) > width {
			b.WriteString("\n" + indent)
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}
