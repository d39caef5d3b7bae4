// Package eval scores detector output against the ground truth of a
// simulated recording (internal/simulate): twitch bursts in the EMG and in
// the accelerometer, false alarms per hour of rest, cramps, exercise bouts
// and the persistence status. It also runs the benchmark suite of seeded
// scenarios and checks the bars the detectors must clear.
//
// # Matching
//
// Twitches are matched one to one. A detection is a candidate for a true
// twitch when its interval overlaps the true interval extended by the
// tolerance on both sides (end points included, so a zero-length detection
// on the edge counts). The matching is a maximum one-to-one matching
// (Kuhn's augmenting paths over the true twitches in order), each true
// twitch trying its candidates by largest overlap with the extended
// interval first, then the smallest distance between the centres: as many
// pairs as the tolerance allows, and among them the better-fitting ones.
// Each true twitch takes at most one detection and each detection at most
// one true twitch; the rest are false positives (detections) and false
// negatives (truths): two detections of one twitch are one TP and one FP.
//
// EMG detections (sensor "emg") are scored against every labelled twitch
// over Start..End with Options.Tolerance. Accelerometer detections (sensor
// "acc") are scored against the twitches whose recorded jerk peaks at
// least Options.AccSNR (6) times the accelerometer's per-axis noise, over
// Start..AccEnd (the potential through the end of the limb's damped
// oscillation) with Options.AccTolerance; smaller jerks the limb made are
// neither truths nor false positives: a detection matched to one is not
// counted (labels of schema 1 have no noise: every in_acc twitch counts).
//
// A replay may have both sensors or one (Options.Modality, see
// simulate.Modalities): with EMG only, accelerometer twitches and bouts
// are scored from what the EMG can tell, acc twitches are not scored;
// with the accelerometer only, EMG twitches and cramps are not scored.
// The expected status is the labels' expectation for the modality.
//
// A false positive is a false alarm at rest when its start falls in a
// rest phase; FA/h divides their number by the hours of rest.
//
// Cramps are matched one to one by overlap (with Options.CrampTolerance);
// an exercise bout is found when one detected bout covers at least half of
// it, and its intensity agrees when that bout's intensity is the labelled
// one; a bout is split when more than one detected bout overlaps it, and
// a detected bout overlapping no true bout is invented. The status is the
// last assessment's status.
package eval

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"time"

	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/pipeline"
)

// NotAssessed is reported as the status when no assessment event came.
const NotAssessed = "not assessed"

// Options sets the matching tolerances.
type Options struct {
	// Tolerance extends each true EMG twitch interval on both sides.
	Tolerance time.Duration
	// AccTolerance extends each true accelerometer twitch interval.
	AccTolerance time.Duration
	// CrampTolerance extends each true cramp interval.
	CrampTolerance time.Duration
	// BoutCoverage is the fraction of a true bout one detected bout must cover.
	BoutCoverage float64
	// AccSNR is the least recorded jerk peak, in multiples of the per-axis
	// noise, of an accelerometer twitch that counts as a truth.
	AccSNR float64
	// Modality is the replay's sensors: simulate.ModBoth (also when
	// empty), ModEMG or ModAcc.
	Modality string
}

// DefaultOptions returns the tolerances used by the suite: 50 ms for EMG
// twitches, 150 ms for accelerometer twitches (the sensor's low-pass and a
// slower envelope blur the onset), 1 s for cramps, 50% bout coverage.
func DefaultOptions() Options {
	return Options{
		Tolerance:      50 * time.Millisecond,
		AccTolerance:   150 * time.Millisecond,
		CrampTolerance: time.Second,
		BoutCoverage:   0.5,
		AccSNR:         simulate.AccVisibleSNR,
		Modality:       simulate.ModBoth,
	}
}

// Detection scores one kind of detection.
type Detection struct {
	// Scored is false when the replay had no sensor for this kind.
	Scored    bool    `json:"scored"`
	True      int     `json:"true"`
	Detected  int     `json:"detected"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// FPRest counts false positives starting in rest phases.
	FPRest int `json:"fp_rest"`
	// FAPerHourRest is FPRest over the hours of rest (0 without rest).
	FAPerHourRest float64 `json:"fa_per_hour_rest"`
	// Ignored counts detections matched to twitches too small to count
	// (accelerometer jerks below Options.AccSNR times the noise).
	Ignored int `json:"ignored,omitempty"`
	// PhaseAgree counts true positives whose reported phase (rest or
	// post_exercise) is the labelled context.
	PhaseAgree int `json:"phase_agree"`
}

func (d *Detection) finish(restHours float64) {
	d.Precision, d.Recall, d.F1 = prf(d.TP, d.FP, d.FN)
	if restHours > 0 {
		d.FAPerHourRest = float64(d.FPRest) / restHours
	}
}

// prf returns precision, recall and F1. Precision is 1 without detections
// and recall is 1 without truths (nothing to find, nothing found wrongly);
// F1 is 0 when both are 0.
func prf(tp, fp, fn int) (p, r, f1 float64) {
	p, r = 1, 1
	if tp+fp > 0 {
		p = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		r = float64(tp) / float64(tp+fn)
	}
	if p+r > 0 {
		f1 = 2 * p * r / (p + r)
	}
	return p, r, f1
}

// Cramps scores cramp detection.
type Cramps struct {
	True  int `json:"true"`
	Found int `json:"found"`
	False int `json:"false"`
}

// Bouts scores exercise-bout detection.
type Bouts struct {
	True           int `json:"true"`
	Found          int `json:"found"`
	IntensityAgree int `json:"intensity_agree"`
	Detected       int `json:"detected"`
	// Split counts true bouts overlapped by more than one detected bout;
	// Pieces adds up the detected bouts overlapping each true bout (one
	// per true bout when none is split or missed).
	Split  int `json:"split"`
	Pieces int `json:"pieces"`
	// Invented counts detected bouts that overlap no true bout.
	Invented int     `json:"invented"`
	Recall   float64 `json:"recall"`
	// IntensityAgreement is IntensityAgree over True (1 without bouts).
	IntensityAgreement float64 `json:"intensity_agreement"`
	// Intensities lists "labelled->detected" for each true bout, "-" when missed.
	Intensities []string `json:"intensities,omitempty"`
}

func (b *Bouts) finish() {
	b.Recall, b.IntensityAgreement = 1, 1
	if b.True > 0 {
		b.Recall = float64(b.Found) / float64(b.True)
		b.IntensityAgreement = float64(b.IntensityAgree) / float64(b.True)
	}
}

// Status compares the persistence status.
type Status struct {
	Expected string `json:"expected"`
	Got      string `json:"got"`
	Assessed bool   `json:"assessed"`
	Agree    bool   `json:"agree"`
	// Reason is the oracle's evidence for Expected; Ambiguous, when set,
	// says why the expectation is borderline (such a case is not judged).
	Reason    string `json:"reason,omitempty"`
	Ambiguous string `json:"ambiguous,omitempty"`
	// GotReason is the last assessment's reason.
	GotReason string `json:"got_reason,omitempty"`
}

// Report is the score of one recording, or of several pooled (Combine).
type Report struct {
	Scenario string `json:"scenario"`
	// Family, Split and Variant name the scenario family the case was
	// drawn from (empty for the preset suites); Modality is the replay's
	// sensors (simulate.ModBoth, ModEMG, ModAcc).
	Family    string    `json:"family,omitempty"`
	Split     string    `json:"split,omitempty"`
	Variant   string    `json:"variant,omitempty"`
	Modality  string    `json:"modality"`
	Seed      int64     `json:"seed"`
	Seconds   float64   `json:"seconds"`
	RestHours float64   `json:"rest_hours"`
	EMG       Detection `json:"emg_twitch"`
	Acc       Detection `json:"acc_twitch"`
	Cramps    Cramps    `json:"cramps"`
	Bouts     Bouts     `json:"bouts"`
	Status    Status    `json:"status"`
	// StatusCases and StatusAgreed count the recordings pooled whose
	// expected status is clear (not ambiguous) and how many of them
	// reached it; FalsePersistent counts those that ended persistent or
	// persistent_with_symptoms where none or ceased was expected.
	StatusCases     int `json:"status_cases"`
	StatusAgreed    int `json:"status_agreed"`
	FalsePersistent int `json:"false_persistent"`
	Events          int `json:"events"`
	// Errors lists every missed truth and every false detection, with
	// what the labels say was there, for tuning (not pooled by Combine).
	Errors []string `json:"errors,omitempty"`
}

// span is an interval in Unix ns.
type span struct{ a, b int64 }

func (s span) overlap(o span) int64 {
	lo, hi := max(s.a, o.a), min(s.b, o.b)
	return hi - lo
}

// Score scores evs against l.
func Score(l *simulate.Labels, evs []pipeline.Event, opt Options) Report {
	mod := opt.Modality
	if mod == "" {
		mod = simulate.ModBoth
	}
	r := Report{
		Scenario:  l.Scenario,
		Family:    l.Settings.Family,
		Variant:   l.Settings.Variant,
		Modality:  mod,
		Seed:      l.Seed,
		Seconds:   float64(l.End-l.Start) / 1e9,
		RestHours: l.RestSeconds() / 3600,
		Events:    len(evs),
	}
	hasEMG, hasAcc := mod != simulate.ModAcc, mod != simulate.ModEMG
	var emgDet, accDet, crampDet []span
	var emgPhase, accPhase []string
	var bouts []*pipeline.Bout
	var last *pipeline.Assessment
	for _, ev := range evs {
		switch e := ev.(type) {
		case *pipeline.Twitch:
			s := span{int64(e.Start), int64(e.End)}
			switch e.Sensor {
			case "emg":
				emgDet, emgPhase = append(emgDet, s), append(emgPhase, e.Phase)
			case "acc":
				accDet, accPhase = append(accDet, s), append(accPhase, e.Phase)
			}
		case *pipeline.Cramp:
			crampDet = append(crampDet, span{int64(e.Start), int64(e.End)})
		case *pipeline.Bout:
			bouts = append(bouts, e)
		case *pipeline.Assessment:
			if last == nil || e.Time >= last.Time {
				last = e
			}
		}
	}
	var emgTrue, accTrue, accWeak []span
	var emgCtx, accCtx []string
	for _, t := range l.Twitches {
		emgTrue, emgCtx = append(emgTrue, span{int64(t.Start), int64(t.End)}), append(emgCtx, t.Context)
		if !t.InAcc {
			continue
		}
		s := span{int64(min(t.Start, t.AccStart)), int64(max(t.End, t.AccEnd))}
		if t.AccVisible(opt.AccSNR) {
			accTrue, accCtx = append(accTrue, s), append(accCtx, t.Context)
		} else {
			accWeak = append(accWeak, s)
		}
	}
	if hasEMG {
		r.EMG = scoreTwitches(l, twitchSet{emgTrue, nil, emgCtx}, emgDet, emgPhase, opt.Tolerance, r.RestHours, "emg", &r.Errors)
	}
	if hasAcc {
		r.Acc = scoreTwitches(l, twitchSet{accTrue, accWeak, accCtx}, accDet, accPhase, opt.AccTolerance, r.RestHours, "acc", &r.Errors)
	}

	var crampTrue []span
	for _, c := range l.Cramps {
		if hasEMG { // cramps are seen in the EMG only
			crampTrue = append(crampTrue, span{int64(c.Start), int64(c.End)})
		}
	}
	pairs, falseCramps := match(crampTrue, crampDet, int64(opt.CrampTolerance))
	r.Cramps = Cramps{True: len(crampTrue), Found: len(pairs), False: len(falseCramps)}
	for _, j := range falseCramps {
		r.Errors = append(r.Errors, fmt.Sprintf("false cramp at %s (%.1f s)%s", offset(l, crampDet[j].a), float64(crampDet[j].b-crampDet[j].a)/1e9, nearby(l, crampDet[j])))
	}
	if len(pairs) < len(crampTrue) {
		got := make([]bool, len(crampTrue))
		for _, p := range pairs {
			got[p[0]] = true
		}
		for i, ok := range got {
			if !ok {
				r.Errors = append(r.Errors, fmt.Sprintf("missed cramp at %s (%.1f s)", offset(l, crampTrue[i].a), float64(crampTrue[i].b-crampTrue[i].a)/1e9))
			}
		}
	}

	r.Bouts = scoreBouts(l, bouts, opt.BoutCoverage)
	for i, t := range l.Bouts {
		if got := r.Bouts.Intensities[i]; got != t.Intensity+"->"+t.Intensity {
			r.Errors = append(r.Errors, fmt.Sprintf("bout %s..%s %s %s: got %s", offset(l, int64(t.Start)), offset(l, int64(t.End)), t.Activity, t.Intensity, got))
		}
	}
	r.Status = Status{Expected: l.ExpectedStatus, Got: NotAssessed}
	if l.Expected != nil {
		e := l.Expected.For(mod)
		r.Status.Expected, r.Status.Reason, r.Status.Ambiguous = e.Status, e.Reason, e.Ambiguous
	}
	if last != nil {
		r.Status.Got, r.Status.Assessed, r.Status.GotReason = last.Status, true, last.Reason
	}
	r.Status.Agree = r.Status.Got == r.Status.Expected
	if r.Status.Ambiguous == "" {
		r.StatusCases = 1
		if r.Status.Agree {
			r.StatusAgreed = 1
		}
		// A false alarm is persistent* for a session whose twitching
		// ceased or that had none (the bar): judged on what the
		// session held, seen with both sensors, not only on what this
		// replay's sensor could show. A one-sensor replay that finds
		// twitching which really persisted, below what the oracle deems
		// visible to that sensor, disagrees with its expectation (counted
		// above) but does not worry anyone for nothing.
		persisted := l.Expected != nil && pipeline.Status(l.Expected.Both.Status).Persistent()
		if FalseAlarmStatus(r.Status.Expected, r.Status.Got) && !persisted {
			r.FalsePersistent = 1
		}
	}
	return r
}

// twitchSet is the truth for one sensor: the twitches that count, those
// too small to count either way (weak), and each counted one's context.
type twitchSet struct {
	truth, weak []span
	context     []string
}

func scoreTwitches(l *simulate.Labels, ts twitchSet, det []span, detPhase []string, tol time.Duration, restHours float64, sensor string, errs *[]string) Detection {
	truth := ts.truth
	pairs, unmatched := match(append(truth[:len(truth):len(truth)], ts.weak...), det, int64(tol))
	d := Detection{Scored: true, True: len(truth), Detected: len(det), FP: len(unmatched)}
	found := make([]bool, len(truth))
	for _, p := range pairs {
		if p[0] >= len(truth) {
			d.Ignored++
			continue
		}
		found[p[0]] = true
		d.TP++
		if ts.context[p[0]] != "" && detPhase[p[1]] == ts.context[p[0]] {
			d.PhaseAgree++
		}
	}
	d.FN = len(truth) - d.TP
	for i, ok := range found {
		if !ok {
			*errs = append(*errs, fmt.Sprintf("%s missed twitch at %s (%.0f ms)%s", sensor, offset(l, truth[i].a), float64(truth[i].b-truth[i].a)/1e6, twitchInfo(l, truth[i].a)))
		}
	}
	for _, j := range unmatched {
		phase := "?"
		if p := l.PhaseAt(pipeline.Timestamp(det[j].a)); p != nil {
			phase = p.Name
			if p.Name == simulate.PhaseRest {
				d.FPRest++
			}
		}
		*errs = append(*errs, fmt.Sprintf("%s false twitch at %s (%.0f ms) in %s%s", sensor, offset(l, det[j].a), float64(det[j].b-det[j].a)/1e6, phase, nearby(l, det[j])))
	}
	d.finish(restHours)
	return d
}

// offset formats t as seconds from the recording's start.
func offset(l *simulate.Labels, t int64) string {
	return fmt.Sprintf("+%.3fs", float64(t-int64(l.Start))/1e9)
}

func twitchInfo(l *simulate.Labels, start int64) string {
	for _, t := range l.Twitches {
		if int64(t.Start) == start || int64(min(t.Start, t.AccStart)) == start {
			s := fmt.Sprintf(": peak %.0f µV, %d potentials", t.PeakUV, t.Potentials)
			if t.InAcc {
				s += fmt.Sprintf(", acc %.0f mg", t.AccPeakMg)
			}
			return s
		}
	}
	return ""
}

// nearby names the labelled things within a second of s.
func nearby(l *simulate.Labels, s span) string {
	const near = int64(time.Second)
	var out string
	see := func(what string, a, b pipeline.Timestamp) {
		if int64(a)-near <= s.b && int64(b)+near >= s.a {
			out += fmt.Sprintf("; near %s %s..%s", what, offset(l, int64(a)), offset(l, int64(b)))
		}
	}
	for _, a := range l.Artifacts {
		see(a.Kind, a.Start, a.End)
	}
	for _, c := range l.Cramps {
		see("cramp", c.Start, c.End)
	}
	for _, t := range l.Twitches {
		see("twitch", t.Start, t.End)
	}
	return out
}

func scoreBouts(l *simulate.Labels, det []*pipeline.Bout, coverage float64) Bouts {
	b := Bouts{True: len(l.Bouts), Detected: len(det)}
	used := make([]bool, len(det))
	for _, t := range l.Bouts {
		ts := span{int64(t.Start), int64(t.End)}
		var best *pipeline.Bout
		var bestOv int64
		pieces := 0
		for k, d := range det {
			ov := ts.overlap(span{int64(d.Start), int64(d.End)})
			if ov > 0 {
				pieces++
				used[k] = true
			}
			if ov > bestOv {
				best, bestOv = d, ov
			}
		}
		b.Pieces += pieces
		if pieces > 1 {
			b.Split++
		}
		if best == nil || float64(bestOv) < coverage*float64(ts.b-ts.a) {
			b.Intensities = append(b.Intensities, t.Intensity+"->-")
			continue
		}
		b.Found++
		b.Intensities = append(b.Intensities, t.Intensity+"->"+best.Intensity)
		if best.Intensity == t.Intensity {
			b.IntensityAgree++
		}
	}
	for _, u := range used {
		if !u {
			b.Invented++
		}
	}
	b.finish()
	return b
}

// candidate is a possible (truth, detection) pair.
type candidate struct {
	t, d    int
	overlap int64 // with the extended truth interval
	dist    int64 // between centres
}

// match pairs truths and detections one to one as described in the
// package documentation. It returns the pairs (truth index, detection
// index) and the indices of unmatched detections, both in order.
func match(truth, det []span, tol int64) (pairs [][2]int, unmatched []int) {
	order := make([]int, len(det))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return det[order[a]].a < det[order[b]].a })
	var maxLen int64
	for _, d := range det {
		maxLen = max(maxLen, d.b-d.a)
	}
	var cands []candidate
	for ti, t := range truth {
		ext := span{t.a - tol, t.b + tol}
		// detections starting no later than ext.b and ending no earlier than ext.a
		hi := sort.Search(len(order), func(k int) bool { return det[order[k]].a > ext.b })
		for k := hi - 1; k >= 0 && det[order[k]].a >= ext.a-maxLen; k-- {
			di := order[k]
			d := det[di]
			if d.b < ext.a {
				continue
			}
			dist := (d.a + d.b - t.a - t.b) / 2
			if dist < 0 {
				dist = -dist
			}
			cands = append(cands, candidate{t: ti, d: di, overlap: max(0, ext.overlap(d)), dist: dist})
		}
	}
	sort.Slice(cands, func(a, b int) bool {
		x, y := cands[a], cands[b]
		if x.t != y.t {
			return x.t < y.t
		}
		if x.overlap != y.overlap {
			return x.overlap > y.overlap
		}
		if x.dist != y.dist {
			return x.dist < y.dist
		}
		return x.d < y.d
	})
	// adj[t] lists t's candidate detections, best first.
	adj := make([][]int, len(truth))
	for _, c := range cands {
		adj[c.t] = append(adj[c.t], c.d)
	}
	owner := make([]int, len(det)) // truth matched to each detection, -1 if none
	for i := range owner {
		owner[i] = -1
	}
	seen := make([]int, len(det)) // visit stamp per augmenting search
	var try func(t, stamp int) bool
	try = func(t, stamp int) bool {
		for _, d := range adj[t] {
			if seen[d] == stamp {
				continue
			}
			seen[d] = stamp
			if owner[d] < 0 || try(owner[d], stamp) {
				owner[d] = t
				return true
			}
		}
		return false
	}
	for t := range truth {
		try(t, t+1)
	}
	for d, t := range owner {
		if t >= 0 {
			pairs = append(pairs, [2]int{t, d})
		} else {
			unmatched = append(unmatched, d)
		}
	}
	sort.Slice(pairs, func(a, b int) bool { return pairs[a][0] < pairs[b][0] })
	return pairs, unmatched
}

// Combine pools reports into one named report: counts are added, rates
// recomputed, the status counted as agreed cases.
func Combine(name string, rs []Report) Report {
	out := Report{Scenario: name}
	for _, r := range rs {
		out.Seconds += r.Seconds
		out.RestHours += r.RestHours
		out.Events += r.Events
		addDet(&out.EMG, r.EMG)
		addDet(&out.Acc, r.Acc)
		out.Cramps.True += r.Cramps.True
		out.Cramps.Found += r.Cramps.Found
		out.Cramps.False += r.Cramps.False
		out.Bouts.True += r.Bouts.True
		out.Bouts.Found += r.Bouts.Found
		out.Bouts.Detected += r.Bouts.Detected
		out.Bouts.IntensityAgree += r.Bouts.IntensityAgree
		out.Bouts.Split += r.Bouts.Split
		out.Bouts.Pieces += r.Bouts.Pieces
		out.Bouts.Invented += r.Bouts.Invented
		out.StatusCases += r.StatusCases
		out.StatusAgreed += r.StatusAgreed
		out.FalsePersistent += r.FalsePersistent
	}
	out.EMG.finish(out.RestHours)
	out.Acc.finish(out.RestHours)
	out.Bouts.finish()
	out.Status = Status{Expected: "-", Got: fmt.Sprintf("%d/%d agree", out.StatusAgreed, out.StatusCases)}
	return out
}

func addDet(dst *Detection, d Detection) {
	dst.Scored = dst.Scored || d.Scored
	dst.Ignored += d.Ignored
	dst.PhaseAgree += d.PhaseAgree
	dst.True += d.True
	dst.Detected += d.Detected
	dst.TP += d.TP
	dst.FP += d.FP
	dst.FN += d.FN
	dst.FPRest += d.FPRest
}

// LoadLabels reads a labels JSON file.
func LoadLabels(path string) (*simulate.Labels, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	return simulate.ReadLabels(f, path)
}

// MaxEventLine bounds one line of an events file.
const MaxEventLine = 1 << 20

// ErrEvents is wrapped by errors about a malformed events file.
var ErrEvents = errors.New("eval: bad events file")

// ReadEvents reads an events file in the JSON-lines contract: one event
// per line as written by pipeline.MarshalEvent; blank lines are skipped.
// An error names the 1-based line.
func ReadEvents(r io.Reader) ([]pipeline.Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxEventLine)
	var out []pipeline.Event
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(trimSpace(b)) == 0 {
			continue
		}
		ev, err := pipeline.UnmarshalEvent(b)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrEvents, line, err)
		}
		out = append(out, ev)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: after line %d: %w", ErrEvents, line, err)
	}
	return out, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// ReadEventsFile reads the events file at path; errors name the file.
func ReadEventsFile(path string) ([]pipeline.Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	evs, err := ReadEvents(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return evs, nil
}

// FalseAlarmStatus reports whether got asks for a medical opinion
// (persistent*) where expected says the twitching ceased or there was
// none: the error that worries people for nothing.
func FalseAlarmStatus(expected, got string) bool {
	return pipeline.Status(got).Persistent() && (expected == simulate.StatusNone || expected == simulate.StatusCeased)
}

// Miss is a bar a report did not clear.
type Miss struct {
	Scenario string  `json:"scenario"`
	Bar      string  `json:"bar"`
	Got      float64 `json:"got"`
	Want     string  `json:"want"`
	// Split and Modality say where a families-suite miss was found.
	Split    string `json:"split,omitempty"`
	Modality string `json:"modality,omitempty"`
	// Detail says more (a status miss names what was expected and got).
	Detail string `json:"detail,omitempty"`
}

// String formats the miss for people.
func (m Miss) String() string {
	where := m.Scenario
	if m.Modality != "" {
		where += " [" + m.Modality + "]"
	}
	if m.Detail != "" {
		return fmt.Sprintf("%s: %s: %s", where, m.Bar, m.Detail)
	}
	return fmt.Sprintf("%s: %s = %.3g, want %s", where, m.Bar, m.Got, m.Want)
}

// Bars checks r against the bars and returns the misses:
//
//   - EMG twitch F1 >= 0.95; accelerometer twitch F1 >= 0.90 (over the
//     twitches visible in the accelerometer), where there is something to
//     find: without true twitches F1 says nothing (one false alarm makes
//     it 0) and the false-alarm bar judges the recording instead;
//   - at most 1 false alarm per hour of rest for each, counted as at most
//     ceil(rest hours) false positives at rest, so a recording with less
//     than an hour of rest may have one;
//   - every cramp found and none invented;
//   - at least 95% of exercise bouts found, and at least 95% with their
//     labelled intensity.
//
// The persistence status is reported but is not a bar.
func Bars(r Report) []Miss {
	var ms []Miss
	add := func(bar string, got float64, want string) {
		ms = append(ms, Miss{Scenario: r.Scenario, Bar: bar, Got: got, Want: want})
	}
	allowed := math.Ceil(r.RestHours)
	if r.EMG.True > 0 && r.EMG.F1 < 0.95 {
		add("EMG twitch F1", r.EMG.F1, ">= 0.95")
	}
	if float64(r.EMG.FPRest) > allowed {
		add("EMG false alarms at rest", float64(r.EMG.FPRest), fmt.Sprintf("<= %g (1 per hour of rest, %.2f h)", allowed, r.RestHours))
	}
	if r.Acc.True > 0 && r.Acc.F1 < 0.90 {
		add("acc twitch F1", r.Acc.F1, ">= 0.90")
	}
	if float64(r.Acc.FPRest) > allowed {
		add("acc false alarms at rest", float64(r.Acc.FPRest), fmt.Sprintf("<= %g (1 per hour of rest, %.2f h)", allowed, r.RestHours))
	}
	if r.Cramps.Found < r.Cramps.True {
		add("cramps found", float64(r.Cramps.Found), fmt.Sprintf("%d (all)", r.Cramps.True))
	}
	if r.Cramps.False > 0 {
		add("false cramps", float64(r.Cramps.False), "0")
	}
	if r.Bouts.True > 0 && r.Bouts.Recall < 0.95 {
		add("bout recall", r.Bouts.Recall, ">= 0.95")
	}
	if r.Bouts.True > 0 && r.Bouts.IntensityAgreement < 0.95 {
		add("bout intensity agreement", r.Bouts.IntensityAgreement, ">= 0.95")
	}
	return ms
}
