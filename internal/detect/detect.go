// Package detect finds exercise bouts, rest, twitch bursts and cramps in
// accelerometer and surface-EMG streams.
//
// Each EMG channel is band-passed (Butterworth, 20-450 Hz kept below
// Nyquist), cleared of mains by a canceller locked to the frequency it
// finds itself (and following its drift), and followed
// by two RMS envelopes against robust noise floors: a 15 ms one whose
// short bursts are twitch candidates, and a 250 ms one whose sustained
// rises are voluntary activity or, at rest, cramps. Each three-axis
// accelerometer gives ENMO per epoch (activity intensity with published
// cut-points, hence bouts and rest), a 4-25 Hz band where the damped jerk
// of a visible twitch shows, and a movement envelope that tells fidgets
// and posture shifts from stillness. A candidate twitch is kept only when
// the seconds around it are quiet on every sensor; an accelerometer burst
// too weak to stand alone is kept when an EMG twitch confirms it, and an
// EMG burst whose shape a voluntary one could have when the accelerometer
// shows the jerk that follows it.
//
// Everything runs sample by sample in bounded memory; events are emitted
// as soon as they are final, and Watermark says how far the stream is
// settled, so a sink can restore time order.
package detect

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/twitchd/twitchd/pipeline"
)

const (
	sensorEMG = pipeline.SensorEMG
	sensorAcc = pipeline.SensorAcc
)

type candidate struct {
	sensor, channel string
	start, end      int64
	peak, snr       float64
	potentials      int
	strong          bool
}

type crampCandidate struct {
	channel    string
	start, end int64
	peak, rms  float64
}

// decided is an accepted twitch waiting for its phase (and for a possible
// confirmation by the other sensor).
type decided struct {
	ev     *pipeline.Twitch
	sensor string
	start  int64
	end    int64
}

// Detector is a pipeline.Processor running every detector on a stream.
type Detector struct {
	cfg  Config
	emit pipeline.Emit
	tags pipeline.Tags
	tl   *timeline
	emg  []*emgChan
	acc  []*accGroup

	cands     []candidate
	cramps    []crampCandidate
	sustained []span    // recent sustained EMG activity (cramp candidates), for bouts
	waiting   []decided // accepted twitches and cramps waiting for their phase
	crampQ    []*pipeline.Cramp
	bt        bouts

	epochs   [128]epochFlag  // recent epochs: was each active?
	pendingE []epochFeatures // closed epochs waiting for the rhythm verdicts over them
	rhythms  []*rhythm
	started  bool
	epStart  int64
	restFrom int64
	restOpen bool
	last     int64
	nextTick int64
	hold     int64
}

// New returns a Detector with the given configuration.
func New(cfg Config) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Detector{cfg: cfg}, nil
}

// Begin sets up one detector per EMG channel and per three-axis
// accelerometer found in meta.
func (d *Detector) Begin(meta pipeline.Meta, emit pipeline.Emit) error {
	d.emit = emit
	d.tags = pipeline.Tags{Subject: meta.Subject, Site: meta.Site, Session: meta.Session}
	d.tl = newTimeline(240)
	d.sustained = make([]span, 0, 16)
	d.bt = bouts{cfg: &d.cfg}
	d.hold = ns(d.cfg.Context+d.cfg.ActiveMin+d.cfg.FuseWindow) + 3*slotNS
	groups := map[string]*[3]int{}
	var order []string
	for i, ch := range meta.Channels {
		switch ch.Kind {
		case pipeline.KindEMG:
			if ch.RateHz <= 0 {
				return fmt.Errorf("detect: EMG channel %s has no sample rate", ch.Name)
			}
			c, err := newEMG(&d.cfg, i, ch.Name, ch.RateHz, d.tl, d)
			if err != nil {
				return err
			}
			d.emg = append(d.emg, c)
			d.rhythms = append(d.rhythms, c.rh)
		case pipeline.KindAcc:
			g := ch.Group
			if g == "" {
				g = "acc"
			}
			ix, ok := groups[g]
			if !ok {
				ix = &[3]int{-1, -1, -1}
				groups[g] = ix
				order = append(order, g)
			}
			switch ch.Axis {
			case 'x', 'X':
				ix[0] = i
			case 'y', 'Y':
				ix[1] = i
			case 'z', 'Z':
				ix[2] = i
			default:
				return fmt.Errorf("detect: accelerometer channel %s has no axis", ch.Name)
			}
		}
	}
	for _, g := range order {
		ix := *groups[g]
		if ix[0] < 0 || ix[1] < 0 || ix[2] < 0 {
			return fmt.Errorf("detect: accelerometer %q needs x, y and z channels", g)
		}
		rate := meta.Channels[ix[0]].RateHz
		if rate <= 0 {
			return fmt.Errorf("detect: accelerometer %q has no sample rate", g)
		}
		a, err := newAcc(&d.cfg, g, ix, rate, d.tl, d)
		if err != nil {
			return err
		}
		d.acc = append(d.acc, a)
		d.rhythms = append(d.rhythms, a.rh)
	}
	if len(d.acc) == 0 {
		d.bt.veto = d.crampNotBout
	} else {
		for _, c := range d.emg {
			c.rh.needStir = true
		}
	}
	if len(d.emg) == 0 && len(d.acc) == 0 {
		var names []string
		for _, c := range meta.Channels {
			names = append(names, c.Name)
		}
		return fmt.Errorf("detect: no EMG or accelerometer channel among %s", strings.Join(names, ", "))
	}
	return nil
}

// Process runs every detector over the batch's frames.
func (d *Detector) Process(b *pipeline.Batch) error {
	ep := ns(d.cfg.Epoch)
	for i := range b.Frames {
		f := &b.Frames[i]
		t := f.Time
		if !d.started {
			d.started = true
			d.epStart = t - ((t%ep)+ep)%ep
			d.restFrom, d.restOpen = t, true
			d.nextTick = t
		}
		if t-d.epStart > 48*3600*int64(1e9) {
			// A long gap: close the current epoch and jump.
			d.closeEpoch(d.epStart, d.epStart+ep)
			d.epStart = t - ((t%ep)+ep)%ep
		}
		for t >= d.epStart+ep {
			d.closeEpoch(d.epStart, d.epStart+ep)
			d.epStart += ep
		}
		for _, c := range d.emg {
			if v := f.Values[c.idx]; v == v {
				c.step(t, v)
			}
		}
		for _, g := range d.acc {
			x, y, z := f.Values[g.ix[0]], f.Values[g.ix[1]], f.Values[g.ix[2]]
			if x == x && y == y && z == z {
				g.step(t, [3]float64{x, y, z})
			}
		}
		d.last = t
		if t >= d.nextTick {
			d.tick(t, false)
			d.nextTick = t + slotNS
		}
	}
	return nil
}

// End closes every open burst, run and bout and emits what is left.
func (d *Detector) End(last int64) error {
	if !d.started {
		return nil
	}
	for _, c := range d.emg {
		c.finish(last)
	}
	for _, g := range d.acc {
		g.finish(last)
	}
	ep := ns(d.cfg.Epoch)
	if last >= d.epStart {
		d.closeEpoch(d.epStart, min(d.epStart+ep, last+1))
	}
	d.settleEpochs(true)
	// Cramps first: one may veto the last run of active epochs as a bout.
	d.decideCramps(last, last, true)
	d.bt.end(d.boutDone)
	d.tick(last, true)
	if d.restOpen && last > d.restFrom {
		d.emitRest(d.restFrom, last)
	}
	d.restOpen = false
	return nil
}

// Watermark implements pipeline.Watermarker.
func (d *Detector) Watermark() (int64, bool) {
	w, ok := int64(math.MaxInt64), false
	low := func(t int64) {
		if t < w {
			w, ok = t, true
		}
	}
	if !d.started {
		return 0, false
	}
	low(d.epStart)
	if len(d.pendingE) > 0 {
		low(d.pendingE[0].start)
	}
	for _, c := range d.cands {
		low(c.start)
	}
	for _, c := range d.cramps {
		low(c.start)
	}
	for _, c := range d.waiting {
		low(c.start)
	}
	for _, c := range d.crampQ {
		low(int64(c.Start))
	}
	for _, c := range d.emg {
		if c.b.open {
			low(c.b.start)
		}
		if c.act.open {
			low(c.act.start)
		}
	}
	for _, g := range d.acc {
		if g.b.open {
			low(g.b.start)
		}
	}
	if t, pending := d.bt.unsettled(); pending {
		low(t)
	}
	if d.restOpen {
		low(d.restFrom)
	}
	return w, ok
}

func (d *Detector) twitchCandidate(c candidate) {
	if !c.strong && len(d.acc) == 0 {
		// Nothing could confirm it.
		d.cfg.debugf(c.start, "%s reject weak, no accelerometer peak %.3f", c.sensor, c.peak)
		return
	}
	d.cands = append(d.cands, c)
}
func (d *Detector) crampCandidate(c crampCandidate) { d.cramps = append(d.cramps, c) }

// crampNotBout reports whether a run of active epochs is a cramp rather
// than exercise: without an accelerometer, a sustained contraction of
// tens of seconds at rest makes EMG-active epochs as a bout would; when
// one or two steady contractions that passed as cramp candidates
// (neither rhythmic nor tremulous) cover most of the run, it is not a
// bout. Many shorter contractions (a fist clenched again and again) are
// exercise, however steady each one is.
func (d *Detector) crampNotBout(start, end int64) bool {
	if end <= start {
		return false
	}
	var covered int64
	n := 0
	for _, s := range d.sustained {
		if a, b := max(s.start, start), min(s.end, end); b > a {
			covered += b - a
			n++
		}
	}
	return n <= 2 && float64(covered) >= 0.6*float64(end-start)
}

// rhythmDecided returns the time up to which every sensor's rhythm
// verdict is final.
func (d *Detector) rhythmDecided() int64 {
	t := int64(math.MaxInt64)
	for _, r := range d.rhythms {
		if r.started {
			t = min(t, r.decided)
		}
	}
	return t
}

// tick decides what has waited long enough.
func (d *Detector) tick(now int64, final bool) {
	d.settleEpochs(final)
	rd := d.rhythmDecided()
	ctx := ns(max(d.cfg.Context, d.cfg.RhythmWindow))
	slices.SortStableFunc(d.cands, func(a, b candidate) int { return cmp.Compare(a.end, b.end) })
	n := 0
	for _, c := range d.cands {
		wait := d.hold
		if c.sensor == sensorAcc {
			wait += ns(d.cfg.FuseWindow)
		}
		if final || (c.end+wait <= now && c.end+ctx <= rd && !d.emgPending(c)) {
			d.decide(c)
			continue
		}
		d.cands[n] = c
		n++
	}
	d.cands = d.cands[:n]

	d.decideCramps(now, rd, final)

	d.releasePhases(final)
	d.restSegments(now)
}

// decideCramps decides the cramp candidates whose context is known.
func (d *Detector) decideCramps(now, rd int64, final bool) {
	n := 0
	for _, c := range d.cramps {
		if final || (c.end+ns(d.cfg.ActiveMin)+2*slotNS <= now && c.end <= rd) {
			d.decideCramp(c)
			continue
		}
		d.cramps[n] = c
		n++
	}
	d.cramps = d.cramps[:n]
}

// emgPending reports whether an accelerometer candidate must wait for
// an EMG burst that may confirm it: one still open, or closed but not yet
// decided, within FuseWindow of it. The wait is bounded: bursts close
// within TwitchMax plus the merge gap, or become activity.
func (d *Detector) emgPending(c candidate) bool {
	if c.sensor != sensorAcc {
		return false
	}
	fw := ns(d.cfg.FuseWindow)
	for _, e := range d.emg {
		if e.b.open && e.b.start <= c.end+fw && d.last-e.b.start < 2*ns(d.cfg.TwitchMax) {
			return true
		}
	}
	for _, o := range d.cands {
		if o.sensor == sensorEMG && o.start <= c.end+fw && c.start <= o.end+fw {
			return true
		}
	}
	return false
}

// quiet returns why the context around [start, end] is not quiet
// (activity, movement, rhythm, tremor or a train of bursts), or "".
func (d *Detector) quiet(start, end int64) string {
	margin := ns(0.3)
	ctx := ns(d.cfg.Context)
	if d.tl.busy(start-ctx, start-margin) || d.tl.busy(end+margin, end+ctx) {
		return "activity"
	}
	// Between two voluntary contractions a few seconds apart (the strides
	// of a stroll too short to show a rhythm) a short burst is one more.
	// An accelerometer sees a stroll move the limb; without one, EMG is
	// all there is to go by.
	if sw := ns(d.cfg.SandwichWindow); len(d.acc) == 0 && d.tl.busy(start-sw, start-margin) && d.tl.busy(end+margin, end+sw) {
		return "between contractions"
	}
	// Rhythmic bursts (strides, pedal strokes) are activity even when
	// each one is short and the envelope dips between them. The
	// candidate itself (and its twin on the other sensor) count too.
	if d.tl.burstCount(start-ns(d.cfg.RhythmWindow), end+ns(d.cfg.RhythmWindow)) > d.cfg.RhythmBursts {
		return "burst train"
	}
	return ""
}

func (d *Detector) decide(c candidate) {
	if why := d.quiet(c.start, c.end); why != "" {
		d.cfg.debugf(c.start, "%s reject context (%s) peak %.3f snr %.1f", c.sensor, why, c.peak, c.snr)
		return
	}
	if c.sensor == sensorEMG && c.snr < d.cfg.ShoulderMaxSNR && d.shoulders(c.start, c.end) {
		d.cfg.debugf(c.start, "emg reject shoulders peak %.3f snr %.1f", c.peak, c.snr)
		return
	}
	if !d.stillPosture(c.start, c.end) {
		d.cfg.debugf(c.start, "%s reject posture peak %.3f", c.sensor, c.peak)
		return
	}
	fw := ns(d.cfg.FuseWindow)
	var match *pipeline.Twitch
	other := sensorEMG
	if c.sensor == sensorEMG {
		other = sensorAcc
	}
	for i := range d.waiting {
		w := &d.waiting[i]
		if w.sensor == other && w.start <= c.end+fw && c.start <= w.end+fw && d.causal(c, *w) {
			match = w.ev
			break
		}
	}
	// With EMG on the same limb, accelerometer twitches come from the
	// EMG-guided search below: the accelerometer alone cannot tell a
	// twitch from a tap on the sensor or a tremor of the table.
	if c.sensor == sensorAcc && len(d.emg) > 0 {
		return
	}
	if match == nil && !c.strong {
		if c.sensor == sensorEMG && d.confirmWeak(c) {
			return
		}
		d.cfg.debugf(c.start, "%s reject weak unconfirmed peak %.3f snr %.1f", c.sensor, c.peak, c.snr)
		return
	}
	ev := &pipeline.Twitch{
		Start: pipeline.Timestamp(c.start), End: pipeline.Timestamp(c.end), Tags: d.tags,
		Sensor: c.sensor, Channel: c.channel, Peak: c.peak, SNR: round3(c.snr),
		Potentials: c.potentials,
	}
	if match != nil {
		match.Confirmed, ev.Confirmed = true, true
	}
	d.waiting = append(d.waiting, decided{ev: ev, sensor: c.sensor, start: c.start, end: c.end})
	if c.sensor == sensorEMG {
		d.guide(ev)
	}
}

// guide looks in every accelerometer for the jerk that follows an
// accepted EMG twitch; found, it is an accelerometer twitch confirmed by
// the EMG, and the EMG twitch is confirmed by it.
func (d *Detector) guide(emg *pipeline.Twitch) {
	for _, g := range d.acc {
		a, b, peak, ratio, ok := d.guidedSearch(g, int64(emg.Start), d.cfg.GuideP)
		if !ok {
			d.cfg.debugf(int64(emg.Start), "guided acc: nothing above noise (peak %.1f sigma)", ratio)
			continue
		}
		if a < int64(emg.Start)-guideLead {
			d.cfg.debugf(int64(emg.Start), "guided acc: jerk %.0f ms before the potential", float64(int64(emg.Start)-a)/1e6)
			continue
		}
		if d.quiet(a, b) != "" || !d.stillPosture(a, b) {
			continue
		}
		emg.Confirmed = true
		ev := &pipeline.Twitch{
			Start: pipeline.Timestamp(a), End: pipeline.Timestamp(b), Tags: d.tags,
			Sensor: sensorAcc, Channel: g.name, Peak: peak, SNR: round3(ratio), Confirmed: true,
		}
		d.waiting = append(d.waiting, decided{ev: ev, sensor: sensorAcc, start: a, end: b})
	}
}

// guidedSearch looks in g for the jerk after a potential starting at t:
// over GuideWindow at probability p, then (nothing there, or a jerk that
// rose before the potential) over GuideWindowLong at p/10: the long
// window is the fallback for slow jerks, and a stricter test keeps it
// from doubling the chance that noise confirms a potential.
func (d *Detector) guidedSearch(g *accGroup, t int64, p float64) (start, end int64, peak, ratio float64, ok bool) {
	from := t - ns(0.02)
	start, end, peak, ratio, ok = g.guided(from, ns(d.cfg.GuideWindow), p)
	if (ok && start >= t-guideLead) || d.cfg.GuideWindowLong <= d.cfg.GuideWindow {
		return start, end, peak, ratio, ok
	}
	return g.guided(from, ns(d.cfg.GuideWindowLong), p/10)
}

// guideLead is how far before its EMG burst's start a jerk may rise to
// half its peak and still follow from it: the limb moves 5-15 ms after
// the muscle fires, and the accelerometer's band-pass delays the jerk
// further, but the EMG envelope's start can lag the potential's by a few
// milliseconds.
const guideLead = 5 * 1e6

// weakGuide is how much stronger than GuideP the accelerometer's evidence
// must be to confirm a weak EMG burst (one whose shape a voluntary burst
// could have as well): with it, chance confirms one such burst in ten
// thousand.
const weakGuide = 0.1

// confirmWeak accepts a weak EMG candidate when an accelerometer shows
// the jerk that follows a twitch, and reports whether it did: both
// become twitches, each confirmed by the other.
func (d *Detector) confirmWeak(c candidate) bool {
	for _, g := range d.acc {
		a, b, peak, ratio, ok := d.guidedSearch(g, c.start, weakGuide*d.cfg.GuideP)
		if !ok || a < c.start-guideLead || d.quiet(a, b) != "" || !d.stillPosture(a, b) {
			continue
		}
		ev := &pipeline.Twitch{
			Start: pipeline.Timestamp(c.start), End: pipeline.Timestamp(c.end), Tags: d.tags,
			Sensor: c.sensor, Channel: c.channel, Peak: c.peak, SNR: round3(c.snr),
			Potentials: c.potentials, Confirmed: true,
		}
		d.waiting = append(d.waiting, decided{ev: ev, sensor: c.sensor, start: c.start, end: c.end})
		acc := &pipeline.Twitch{
			Start: pipeline.Timestamp(a), End: pipeline.Timestamp(b), Tags: d.tags,
			Sensor: sensorAcc, Channel: g.name, Peak: peak, SNR: round3(ratio), Confirmed: true,
		}
		d.waiting = append(d.waiting, decided{ev: acc, sensor: sensorAcc, start: a, end: b})
		d.cfg.debugf(c.start, "emg weak confirmed by %s (peak %.1f sigma)", g.name, ratio)
		return true
	}
	return false
}

// shoulders reports whether the EMG around [start, end] rises and falls
// slowly, as a voluntary contraction's does.
func (d *Detector) shoulders(start, end int64) bool {
	gap, w := ns(0.1), ns(d.cfg.ShoulderWindow)
	n := d.tl.midCount(start-gap-w, start-gap-1) + d.tl.midCount(end+gap+1, end+gap+w)
	return n > d.cfg.ShoulderSlots
}

// pause reports whether [start, end] lies in a quiet stretch of at least
// PauseContext seconds on each side, all of it still in the timeline.
func (d *Detector) pause(start, end int64) bool {
	w := ns(d.cfg.PauseContext)
	if _, ok := d.tl.peek(start - w); !ok {
		return false
	}
	if _, ok := d.tl.peek(end + w); !ok {
		return false
	}
	if d.tl.busy(start-w, start) || d.tl.busy(end, end+w) {
		return false
	}
	// Its own epoch must be inactive too: a pause, not a lull in a set.
	ep := ns(d.cfg.Epoch)
	for _, t := range [2]int64{start, end} {
		i := floorDiv(t, ep)
		e := d.epochs[mod(i, int64(len(d.epochs)))]
		if e.idx != i || e.active {
			return false
		}
	}
	return true
}

// causal reports whether the accelerometer burst of the pair starts no
// earlier than its EMG burst (less a little for the envelopes' lag): the
// limb moves after the muscle fires (electromechanical delay).
func (d *Detector) causal(c candidate, w decided) bool {
	slack := ns(0.02)
	if c.sensor == sensorAcc {
		return c.start >= w.start-slack
	}
	return w.start >= c.start-slack
}

// stillPosture rejects accelerometer bursts across which gravity turns:
// the limb changed posture.
func (d *Detector) stillPosture(start, end int64) bool {
	g0, ok0 := d.tl.gravity(start - ns(0.5))
	g1, ok1 := d.tl.gravity(end + ns(0.5))
	if !ok0 || !ok1 {
		return true
	}
	n0 := math.Sqrt(g0[0]*g0[0] + g0[1]*g0[1] + g0[2]*g0[2])
	n1 := math.Sqrt(g1[0]*g1[0] + g1[1]*g1[1] + g1[2]*g1[2])
	if n0 == 0 || n1 == 0 {
		return true
	}
	cos := (g0[0]*g1[0] + g0[1]*g1[1] + g0[2]*g1[2]) / (n0 * n1)
	return math.Acos(math.Min(1, cos))*180/math.Pi <= d.cfg.PostureDeg
}

func (d *Detector) decideCramp(c crampCandidate) {
	sh := d.tl.fractions(c.start, c.end)
	switch {
	case sh.rhythm > 0.3 || sh.tremor > 0.3:
		d.cfg.debugf(c.start, "cramp reject rhythmic %.2f tremor %.2f until %s", sh.rhythm, sh.tremor, pipeline.Timestamp(c.end))
		return
	case len(d.acc) > 0 && sh.moving > d.cfg.CrampMotionFrac:
		d.cfg.debugf(c.start, "cramp reject moving %.2f until %s", sh.moving, pipeline.Timestamp(c.end))
		return
	case len(d.acc) == 0 && sh.fast < 0.6:
		return
	}
	if len(d.sustained) == cap(d.sustained) {
		d.sustained = append(d.sustained[:0], d.sustained[1:]...)
	}
	d.sustained = append(d.sustained, span{c.start, c.end})
	d.crampQ = append(d.crampQ, &pipeline.Cramp{
		Start: pipeline.Timestamp(c.start), End: pipeline.Timestamp(c.end), Tags: d.tags,
		Sensor: sensorEMG, Channel: c.channel, Peak: c.peak, MeanRMS: c.rms,
	})
}

// releasePhases emits twitches and cramps whose phase is settled.
func (d *Detector) releasePhases(final bool) {
	fw := ns(d.cfg.FuseWindow)
	// An accelerometer burst may end up to AccTwitchMax after its EMG
	// twin and is decided FuseWindow later than EMG candidates: wait for it.
	horizon := d.last - d.hold - 2*fw - ns(max(d.cfg.TwitchMax, d.cfg.AccTwitchMax))
	post := ns(d.cfg.PostExercise)
	n := 0
	for _, w := range d.waiting {
		if !final && w.end > horizon {
			// The other sensor may still confirm it.
			d.waiting[n] = w
			n++
			continue
		}
		ph, ok := d.bt.phase(w.start, post)
		if !ok && !final {
			d.waiting[n] = w
			n++
			continue
		}
		if !ok {
			ph = pipeline.PhaseActivity
		}
		if ph == pipeline.PhaseActivity && !d.pause(w.start, w.end) {
			d.cfg.debugf(w.start, "%s reject in bout", w.sensor)
			// Inside a bout voluntary activity mimics twitches; report
			// one only from a real pause.
			continue
		}
		w.ev.Phase = ph
		d.emit(w.ev)
	}
	d.waiting = d.waiting[:n]
	n = 0
	for _, c := range d.crampQ {
		ph, ok := d.bt.phase(int64(c.Start), post)
		if !ok && !final {
			d.crampQ[n] = c
			n++
			continue
		}
		if ph == pipeline.PhaseActivity || !ok {
			d.cfg.debugf(int64(c.Start), "cramp reject in bout")
			continue // sustained EMG inside an exercise bout is exercise
		}
		d.emit(c)
	}
	d.crampQ = d.crampQ[:n]
}

func (d *Detector) closeEpoch(start, end int64) {
	f := epochFeatures{start: start, end: end}
	emgActive := false
	for _, g := range d.acc {
		enmo, peak, n := g.epoch()
		if n == 0 {
			continue
		}
		f.hasAcc = true
		f.enmo = math.Max(f.enmo, enmo)
		f.peakDyn = math.Max(f.peakDyn, peak)
		d.emit(&pipeline.Epoch{
			Start: pipeline.Timestamp(start), End: pipeline.Timestamp(end), Tags: d.tags,
			Sensor: sensorAcc, Channel: g.name, ENMO: round3(enmo), Noise: g.cf.noise(),
			Intensity: d.cfg.epochIntensity(enmo),
		})
	}
	for _, c := range d.emg {
		rms, peak, frac, n := c.epoch()
		if n == 0 {
			continue
		}
		f.emgRMS = math.Max(f.emgRMS, rms)
		f.emgPeak = math.Max(f.emgPeak, peak)
		if frac >= d.cfg.EMGActiveFrac {
			emgActive = true
		}
		d.emit(&pipeline.Epoch{
			Start: pipeline.Timestamp(start), End: pipeline.Timestamp(end), Tags: d.tags,
			Sensor: sensorEMG, Channel: c.name, RMS: rms, Noise: c.fastFloor.level,
		})
	}
	if f.hasAcc {
		f.active = f.enmo >= d.cfg.LightMG
	} else {
		f.active = emgActive
	}
	d.pendingE = append(d.pendingE, f)
	d.settleEpochs(false)
}

// settleEpochs hands the closed epochs whose rhythm is decided to bout
// detection: an epoch that is mostly rhythmic is active whatever its
// intensity (walking, a warm-up, sets of repetitions).
func (d *Detector) settleEpochs(final bool) {
	ep := ns(d.cfg.Epoch)
	rd := d.rhythmDecided()
	n := 0
	for _, f := range d.pendingE {
		if !final && f.end > rd {
			break
		}
		sh := d.tl.fractions(f.start, f.end-1)
		f.rep = sh.rep > 0
		if !f.active && sh.rhythm >= d.cfg.RhythmEpochFrac {
			d.cfg.debugf(f.start, "epoch active by rhythm %.2f (repetitions %.2f)", sh.rhythm, sh.rep)
			f.active = true
		}
		i := floorDiv(f.start, ep)
		d.epochs[mod(i, int64(len(d.epochs)))] = epochFlag{idx: i, active: f.active}
		d.bt.epoch(f, d.boutDone)
		n++
	}
	d.pendingE = append(d.pendingE[:0], d.pendingE[n:]...)
}

type epochFlag struct {
	idx    int64
	active bool
}

func (d *Detector) boutDone(b *boutAcc) {
	sensor := sensorEMG
	if b.hasAcc {
		sensor = sensorAcc
		if len(d.emg) > 0 {
			sensor = "acc+emg"
		}
	}
	ev := &pipeline.Bout{
		Start: pipeline.Timestamp(b.start), End: pipeline.Timestamp(b.end), Tags: d.tags,
		Sensor: sensor, Intensity: d.cfg.intensity(b), PeakRMS: b.peakRMS,
	}
	if b.hasAcc {
		var sum float64
		for _, v := range b.enmo {
			sum += v
		}
		ev.MeanENMO = round3(sum / float64(len(b.enmo)))
		ev.PeakENMO = round3(b.peakENMO)
		ev.PeakAcc = b.peakG
	}
	if len(d.emg) > 0 {
		ev.MeanRMS = b.rmsSum / float64(max(1, b.activeN))
	}
	if d.restOpen && b.start > d.restFrom {
		d.emitRest(d.restFrom, b.start)
	}
	d.emit(ev)
	d.restFrom, d.restOpen = b.end, true
}

// restSegments emits settled rest in pieces of at most RestSegment.
func (d *Detector) restSegments(now int64) {
	if !d.restOpen {
		return
	}
	settled := now - ns(d.cfg.Epoch)
	if t, pending := d.bt.unsettled(); pending && t < settled {
		settled = t
	}
	seg := ns(d.cfg.RestSegment)
	for settled-d.restFrom >= seg {
		d.emitRest(d.restFrom, d.restFrom+seg)
	}
}

// emitRest emits rest from a to b, in pieces of at most RestSegment.
func (d *Detector) emitRest(a, b int64) {
	seg := ns(d.cfg.RestSegment)
	for a < b {
		e := min(b, a+seg)
		last, ok := d.bt.lastEnd(a)
		after := ok && a-last <= ns(d.cfg.PostExercise)
		d.emit(&pipeline.Rest{Start: pipeline.Timestamp(a), End: pipeline.Timestamp(e), Tags: d.tags, AfterExercise: after})
		a = e
	}
	d.restFrom = b
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// floorDiv divides rounding toward minus infinity, so times before 1970
// fall into the right epoch.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// mod returns a modulo b in [0, b).
func mod(a, b int64) int64 { return ((a % b) + b) % b }
