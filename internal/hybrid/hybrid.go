// Package hybrid makes hybrid recordings and scores the detectors on
// them: the real recordings of internal/realdata (real noise,
// quantisation, movement and contractions) with simulated twitches
// injected at known times (issue 9, item 4). Nothing is stored: each
// recording is decoded twice per draw, once to measure its noise per
// channel (Measure) and once streaming through an Injector into the
// whole pipeline (detectors and persistence rule), and the twitch events
// are matched one to one with the injected truths by eval.Match.
//
// What is injected (Config, Default): EMG twitches of one to four
// potentials with 1-6 phases lasting 2-25 ms (internal/simulate's
// waveforms, widened by the front end's anti-aliasing), their largest
// peak as recorded 3-30 times the channel's measured noise; accelerometer
// jerks (simulate.DampedJerk) of 5-25 Hz damped over 20-150 ms in a
// random direction, peaking at 6-30 times the measured per-axis noise (a
// quarter weaker, 2-6 times), alone on an accelerometer-only recording
// and after most twitches where there is EMG too. They go mostly into
// the catalogued rest stretches (one every 3-6 s), some into activity
// (one every 8-15 s); those are scored apart.
//
// Scores (Result): recall of clear (SNR >= 10) and faint EMG twitches,
// of >= 6x and weaker jerks, at rest and in activity; precision; false
// alarms at rest (detections matching nothing that start in a rest
// stretch) per hour of rest. Bars checks the pooled numbers.
package hybrid

import (
	"context"
	"fmt"
	"time"

	"github.com/twitchd/twitchd/internal/eval"
	"github.com/twitchd/twitchd/internal/realdata"
	"github.com/twitchd/twitchd/internal/realdata/replay"
	"github.com/twitchd/twitchd/pipeline"
)

// Run scores every analysable recording of the folder root (files that
// are the same data as another, SameAs, are run once), Draws times each.
// A recording that fails (a decoder or detector error) is reported in
// its Result's Err and left out of the scores; the others go on. Run
// stops only when ctx is done.
func Run(ctx context.Context, root string, cfg Config) ([]Result, error) {
	var out []Result
	for _, rec := range realdata.All() {
		if rec.NotAnalysable != "" || rec.SameAs != "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		r, err := RunRecording(ctx, root, rec, cfg)
		if err != nil {
			r = Result{Path: rec.Path, Sensors: rec.Sensors.String(), Err: err.Error()}
		}
		out = append(out, r)
	}
	return out, nil
}

// RunRecording measures rec's noise and runs its draws.
func RunRecording(ctx context.Context, root string, rec realdata.Recording, cfg Config) (Result, error) {
	f, err := replay.Open(root, rec)
	if err != nil {
		return Result{}, err
	}
	nz, err := Measure(ctx, f, rec)
	f.Close()
	if err != nil {
		return Result{}, err
	}
	res := newResult(rec, nz)
	for k := range cfg.Draws {
		plan := NewPlan(cfg, rec, nz, k)
		evs, err := runDraw(ctx, root, rec, plan)
		if err != nil {
			return res, fmt.Errorf("hybrid: %s draw %d: %w", rec.Path, k, err)
		}
		res.add(rec, nz, plan, evs)
	}
	return res, nil
}

// runDraw replays rec with plan's injections and returns the events.
func runDraw(ctx context.Context, root string, rec realdata.Recording, plan *Plan) ([]pipeline.Event, error) {
	f, err := replay.Open(root, rec)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	col := &eval.Collector{}
	if _, err := replay.Run(ctx, NewInjector(f, plan), col); err != nil {
		return nil, err
	}
	return col.Events, nil
}

// restIn is the rest time of rec within its first d.
func restIn(rec realdata.Recording, d time.Duration) time.Duration {
	var sum time.Duration
	for _, s := range rec.Rest() {
		if e := min(s.To, d); e > s.From {
			sum += e - s.From
		}
	}
	return sum
}
