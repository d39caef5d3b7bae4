// Package recplot draws one recording the way a person checks a
// detector: the filtered EMG and its envelope, the accelerometer
// magnitude, and below them the bouts, rest, twitches (those confirmed by
// both sensors marked), cramps and the final status, over the whole
// recording or a zoomed time range. The recording is decoded and run
// through the detectors and the persistence rule (without history) once,
// in bounded memory: signals are kept as minimum and maximum per column.
package recplot

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/session"
	"github.com/twitchd/twitchd/internal/sink/events"
	"github.com/twitchd/twitchd/pipeline"
)

// Options say what to read and which part to show.
type Options struct {
	Format string // empty: detected
	Decode decode.Options
	// From and To limit the picture: an offset from the recording's first
	// sample ("90s", "2m30s") or an RFC 3339 time; empty: the whole
	// recording.
	From, To string
}

// Recording is what a picture shows.
type Recording struct {
	File   string
	Format string
	// Start and End bound the recording; From and To what is shown.
	Start, End time.Time
	From, To   time.Time
	EMG, Acc   []Trace
	Bouts      []*pipeline.Bout
	Rests      []*pipeline.Rest
	Twitches   []*pipeline.Twitch
	Cramps     []*pipeline.Cramp
	// Final is the last assessment of the recording (nil if none).
	Final *pipeline.Assessment
}

// bound is a From or To option resolved against the first sample.
type bound struct {
	offset time.Duration
	at     time.Time
	set    bool
}

func parseBound(s string) (bound, error) {
	if s == "" {
		return bound{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return bound{offset: d, set: true}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return bound{at: t, set: true}, nil
	}
	return bound{}, fmt.Errorf("recplot: %q is neither an offset (90s, 2m30s) nor an RFC 3339 time", s)
}

func (b bound) resolve(start time.Time, def time.Time) time.Time {
	switch {
	case !b.set:
		return def
	case b.at.IsZero():
		return start.Add(b.offset)
	}
	return b.at
}

// Read decodes the file at path, runs the detectors and the rule, and
// keeps what the picture of opts' range needs.
func Read(ctx context.Context, path string, opts Options) (*Recording, error) {
	from, err := parseBound(opts.From)
	if err != nil {
		return nil, err
	}
	to, err := parseBound(opts.To)
	if err != nil {
		return nil, err
	}
	f, err := decode.OpenFile(path, opts.Format, opts.Decode)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tap, err := newTap(f, from, to)
	if err != nil {
		return nil, err
	}
	col := &events.Collector{}
	res, err := session.Run(ctx, tap, session.Config{
		Subject: "plot",
		Stages:  []pipeline.EventStage{rule.New(ctx, rule.DefaultConfig(), nil, nil)},
		Sinks:   []pipeline.Sink{col},
	})
	if err != nil {
		return nil, err
	}
	if !tap.started {
		return nil, fmt.Errorf("recplot: %s: no samples", path)
	}
	emg, acc := tap.traces()
	r := &Recording{File: res.Summary.File, Format: res.Summary.Format, Start: tap.start, End: tap.last,
		From: tap.from, To: tap.to, EMG: emg, Acc: acc}
	if !r.To.After(r.From) {
		return nil, fmt.Errorf("recplot: %s: nothing between %s and %s (the recording runs from %s to %s)", path,
			r.From.Format(time.RFC3339), r.To.Format(time.RFC3339), r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339))
	}
	r.keep(col.Events)
	return r, nil
}

// keep sorts the events into r, keeping those that overlap the range
// shown; the final assessment is kept whatever its time.
func (r *Recording) keep(evs []pipeline.Event) {
	from, to := pipeline.Timestamp(r.From.UnixNano()), pipeline.Timestamp(r.To.UnixNano())
	in := func(s, e pipeline.Timestamp) bool { return e >= from && s <= to }
	for _, ev := range evs {
		switch x := ev.(type) {
		case *pipeline.Bout:
			if in(x.Start, x.End) {
				r.Bouts = append(r.Bouts, x)
			}
		case *pipeline.Rest:
			if in(x.Start, x.End) {
				r.Rests = append(r.Rests, x)
			}
		case *pipeline.Twitch:
			if in(x.Start, x.End) {
				r.Twitches = append(r.Twitches, x)
			}
		case *pipeline.Cramp:
			if in(x.Start, x.End) {
				r.Cramps = append(r.Cramps, x)
			}
		case *pipeline.Assessment:
			if r.Final == nil || x.Time >= r.Final.Time {
				r.Final = x
			}
		}
	}
}

// tap is a Source that passes frames on to the detectors and keeps the
// traces of the range shown.
type tap struct {
	pipeline.Source
	meta         pipeline.Meta
	fromB, toB   bound
	started      bool
	start, last  time.Time
	from, to     time.Time
	fromNs, toNs int64
	emg          []emgTrace
	acc          []accTrace
}

type emgTrace struct {
	idx   int
	name  string
	front *emgFront
	b     *buckets
}

type accTrace struct {
	name    string
	x, y, z int
	b       *buckets
}

func newTap(src pipeline.Source, from, to bound) (*tap, error) {
	t := &tap{Source: src, meta: src.Meta(), fromB: from, toB: to}
	groups := map[string]*accTrace{}
	var order []string
	for i, c := range t.meta.Channels {
		switch c.Kind {
		case pipeline.KindEMG:
			if c.RateHz <= 0 {
				continue
			}
			fr, err := newEMGFront(c.RateHz)
			if err != nil {
				return nil, fmt.Errorf("recplot: EMG channel %s: %w", c.Name, err)
			}
			t.emg = append(t.emg, emgTrace{idx: i, name: c.Name, front: fr})
		case pipeline.KindAcc:
			g := groups[c.Group]
			if g == nil {
				g = &accTrace{name: c.Group, x: -1, y: -1, z: -1}
				groups[c.Group] = g
				order = append(order, c.Group)
			}
			switch c.Axis {
			case 'x':
				g.x = i
			case 'y':
				g.y = i
			case 'z':
				g.z = i
			}
		}
	}
	for _, n := range order {
		if g := groups[n]; g.x >= 0 && g.y >= 0 && g.z >= 0 {
			t.acc = append(t.acc, *g)
		}
	}
	if len(t.emg) == 0 && len(t.acc) == 0 {
		return nil, errors.New("recplot: the recording has no EMG channel and no three-axis accelerometer")
	}
	return t, nil
}

// begin sets the range once the first sample's time is known.
func (t *tap) begin(first int64) {
	t.started = true
	t.start = time.Unix(0, first).UTC()
	t.from = t.fromB.resolve(t.start, t.start)
	t.to = t.toB.resolve(t.start, time.Time{})
	t.fromNs = t.from.UnixNano()
	t.toNs = math.MaxInt64
	width := int64(time.Millisecond)
	if !t.to.IsZero() {
		t.toNs = t.to.UnixNano()
		width = max((t.toNs-t.fromNs)/Buckets, 1)
	}
	for i := range t.emg {
		t.emg[i].b = newBuckets(width, true)
	}
	for i := range t.acc {
		t.acc[i].b = newBuckets(width, false)
	}
}

// Next reads a batch and keeps its samples in the range shown.
func (t *tap) Next(ctx context.Context, b *pipeline.Batch) error {
	err := t.Source.Next(ctx, b)
	for _, fr := range b.Frames {
		if !t.started {
			t.begin(fr.Time)
		}
		t.last = time.Unix(0, fr.Time).UTC()
		keep := fr.Time >= t.fromNs && fr.Time <= t.toNs
		for i := range t.emg {
			e := &t.emg[i]
			if v := fr.Values[e.idx]; !pipeline.IsNoSample(v) {
				y, env := e.front.step(v) // filters run on every sample, shown or not
				if keep {
					e.b.add(fr.Time, y, env)
				}
			}
		}
		if !keep {
			continue
		}
		for i := range t.acc {
			a := &t.acc[i]
			x, y, z := fr.Values[a.x], fr.Values[a.y], fr.Values[a.z]
			if !pipeline.IsNoSample(x) && !pipeline.IsNoSample(y) && !pipeline.IsNoSample(z) {
				a.b.add(fr.Time, math.Sqrt(x*x+y*y+z*z), 0)
			}
		}
	}
	return err
}

// traces returns the kept traces and settles the range's end.
func (t *tap) traces() (emg, acc []Trace) {
	if t.to.IsZero() || t.to.After(t.last) {
		t.to = t.last
	}
	if t.from.Before(t.start) {
		t.from = t.start
	}
	for _, e := range t.emg {
		if e.b.started {
			emg = append(emg, e.b.trace("EMG "+e.name, "mV"))
		}
	}
	for _, a := range t.acc {
		if a.b.started {
			name := "accelerometer"
			if a.name != "" && !strings.EqualFold(a.name, "acc") {
				name += " " + a.name
			}
			acc = append(acc, a.b.trace(name, "g"))
		}
	}
	return emg, acc
}
