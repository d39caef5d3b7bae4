package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/pipeline"
)

func init() {
	register(&command{
		name:    "note",
		summary: "log a symptom (weakness, clumsiness, cramps, other) to InfluxDB",
		run:     runNote,
	})
}

// noteTimeout bounds the write of one note.
const noteTimeout = 30 * time.Second

func runNote(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("note", "note --subject S [--site X] --symptom "+strings.Join(rule.Symptoms, "|")+" [--text ...] [--time RFC3339]", stderr)
	subject := fs.String("subject", "", "person the note is about (required)")
	site := fs.String("site", "", "body site, e.g. calf_left; empty: applies to every site")
	symptom := fs.String("symptom", "", "what you noticed: "+strings.Join(rule.Symptoms, ", ")+" (required)")
	text := fs.String("text", "", "free text, e.g. \"hard to climb stairs\"")
	when := fs.String("time", "", "when it happened, RFC 3339 (default now)")
	var inf influxconn.Settings
	addInfluxFlags(fs, &inf)
	addPseudonymFlag(fs, &inf)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ev, err := noteEvent(*subject, *site, *symptom, *text, *when, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "twitchd note: %v\n", err)
		fs.Usage()
		return errUsage
	}
	if !inf.Enabled() {
		fmt.Fprintln(stderr, "twitchd note: no InfluxDB: set --influx-url or INFLUX_URL")
		return errUsage
	}
	conn, err := influxconn.Open(inf)
	if err != nil {
		return err
	}
	defer conn.Close()
	ev.Subject = conn.Subject(ev.Subject)
	wctx, cancel := context.WithTimeout(ctx, noteTimeout)
	defer cancel()
	if err := conn.Write(wctx, ev); err != nil {
		return err
	}
	where := ev.Site
	if where == "" {
		where = "every site"
	}
	fmt.Fprintf(stdout, "noted %s for %s (%s) at %s\n", ev.Symptom, ev.Subject, where, ev.Time)
	return nil
}

// noteEvent checks the note's flags and builds its event; an empty when
// means now.
func noteEvent(subject, site, symptom, text, when string, now time.Time) (*pipeline.Symptom, error) {
	if strings.TrimSpace(subject) == "" {
		return nil, errors.New("--subject is required")
	}
	if !rule.ValidSymptom(symptom) {
		return nil, fmt.Errorf("--symptom %q: want one of %s", symptom, strings.Join(rule.Symptoms, ", "))
	}
	t := now
	if when != "" {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, when); err != nil {
			return nil, fmt.Errorf("--time %q: want RFC 3339, e.g. 2026-11-25T18:30:00Z: %w", when, err)
		}
	}
	return &pipeline.Symptom{Time: pipeline.Timestamp(t.UnixNano()), Tags: pipeline.Tags{Subject: subject, Site: site},
		Symptom: symptom, Text: text}, nil
}
