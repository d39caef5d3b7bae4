package eval

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/pipeline"
)

const ms = int64(time.Millisecond)

func TestMatch(t *testing.T) {
	cases := []struct {
		name       string
		truth, det []span
		tol        int64
		tp, fp, fn int
		pairs      [][2]int // when given, the exact pairs
	}{
		{"exact", []span{{1000 * ms, 1010 * ms}}, []span{{1000 * ms, 1010 * ms}}, 50 * ms, 1, 0, 0, nil},
		{"inside tolerance before", []span{{1000 * ms, 1010 * ms}}, []span{{940 * ms, 960 * ms}}, 50 * ms, 1, 0, 0, nil},
		{"edge: ends exactly at start-tol", []span{{1000 * ms, 1010 * ms}}, []span{{900 * ms, 950 * ms}}, 50 * ms, 1, 0, 0, nil},
		{"edge: 1 ns too early", []span{{1000 * ms, 1010 * ms}}, []span{{900 * ms, 950*ms - 1}}, 50 * ms, 0, 1, 1, nil},
		{"edge: starts exactly at end+tol", []span{{1000 * ms, 1010 * ms}}, []span{{1060 * ms, 1080 * ms}}, 50 * ms, 1, 0, 0, nil},
		{"edge: 1 ns too late", []span{{1000 * ms, 1010 * ms}}, []span{{1060*ms + 1, 1080 * ms}}, 50 * ms, 0, 1, 1, nil},
		{"zero-length detection inside", []span{{1000 * ms, 1010 * ms}}, []span{{1005 * ms, 1005 * ms}}, 0, 1, 0, 0, nil},
		{"two detections for one truth", []span{{1000 * ms, 1020 * ms}}, []span{{1000 * ms, 1010 * ms}, {1012 * ms, 1030 * ms}}, 50 * ms, 1, 1, 0, nil},
		{"one detection over two truths", []span{{1000 * ms, 1010 * ms}, {1100 * ms, 1110 * ms}}, []span{{990 * ms, 1120 * ms}}, 50 * ms, 1, 0, 1, nil},
		{"maximum matching over greedy overlap", []span{{1000 * ms, 1100 * ms}, {1150 * ms, 1160 * ms}}, []span{{1090 * ms, 1155 * ms}, {1000 * ms, 1050 * ms}},
			50 * ms, 2, 0, 0, [][2]int{{0, 1}, {1, 0}}},
		{"larger overlap preferred", []span{{1000 * ms, 1100 * ms}}, []span{{990 * ms, 1010 * ms}, {1020 * ms, 1090 * ms}},
			50 * ms, 1, 1, 0, [][2]int{{0, 1}}},
		{"both kept when the second truth has another candidate", []span{{0, 10 * ms}, {30 * ms, 40 * ms}}, []span{{5 * ms, 35 * ms}, {32 * ms, 38 * ms}},
			0, 2, 0, 0, [][2]int{{0, 0}, {1, 1}}},
		{"nothing detected", []span{{0, 10 * ms}}, nil, 50 * ms, 0, 0, 1, nil},
		{"nothing true", nil, []span{{0, 10 * ms}}, 50 * ms, 0, 1, 0, nil},
		{"unsorted detections", []span{{1000 * ms, 1010 * ms}, {2000 * ms, 2010 * ms}}, []span{{2001 * ms, 2002 * ms}, {999 * ms, 1001 * ms}},
			10 * ms, 2, 0, 0, [][2]int{{0, 1}, {1, 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pairs, un := match(c.truth, c.det, c.tol)
			if len(pairs) != c.tp || len(un) != c.fp || len(c.truth)-len(pairs) != c.fn {
				t.Fatalf("tp/fp/fn = %d/%d/%d, want %d/%d/%d (pairs %v)", len(pairs), len(un), len(c.truth)-len(pairs), c.tp, c.fp, c.fn, pairs)
			}
			if c.pairs != nil {
				for i := range c.pairs {
					if pairs[i] != c.pairs[i] {
						t.Fatalf("pairs %v, want %v", pairs, c.pairs)
					}
				}
			}
			seenT, seenD := map[int]bool{}, map[int]bool{}
			for _, p := range pairs {
				if seenT[p[0]] || seenD[p[1]] {
					t.Fatalf("not one to one: %v", pairs)
				}
				seenT[p[0]], seenD[p[1]] = true, true
			}
		})
	}
}

func TestPRF(t *testing.T) {
	cases := []struct {
		tp, fp, fn int
		p, r, f1   float64
	}{
		{0, 0, 0, 1, 1, 1},
		{0, 0, 3, 1, 0, 0},
		{0, 2, 0, 0, 1, 0},
		{3, 1, 0, 0.75, 1, 6.0 / 7},
		{1, 1, 1, 0.5, 0.5, 0.5},
	}
	for _, c := range cases {
		p, r, f1 := prf(c.tp, c.fp, c.fn)
		if math.Abs(p-c.p) > 1e-12 || math.Abs(r-c.r) > 1e-12 || math.Abs(f1-c.f1) > 1e-12 {
			t.Errorf("prf(%d,%d,%d) = %g,%g,%g want %g,%g,%g", c.tp, c.fp, c.fn, p, r, f1, c.p, c.r, c.f1)
		}
	}
}

var t0 = pipeline.Timestamp(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixNano())

func at(sec float64) pipeline.Timestamp { return t0 + pipeline.Timestamp(sec*1e9) }

// handLabels: 10 min exercise, 30 min rest with three twitches (one
// visible in acc) and a cramp.
func handLabels() *simulate.Labels {
	return &simulate.Labels{
		Schema: simulate.LabelsSchema, Scenario: "hand", Seed: 1,
		Start: at(0), End: at(2400),
		Phases: []simulate.PhaseLabel{
			{Name: simulate.PhaseExercise, Activity: simulate.ActivityRunning, Intensity: "vigorous", Start: at(0), End: at(600)},
			{Name: simulate.PhaseRest, Activity: simulate.ActivityNone, Start: at(600), End: at(2400)},
		},
		Twitches: []simulate.TwitchLabel{
			{Start: at(700), End: at(700.01), PeakUV: 200, Potentials: 1, InAcc: true, AccStart: at(700.015), AccEnd: at(700.3), AccPeakMg: 30},
			{Start: at(800), End: at(800.05), PeakUV: 100, Potentials: 3},
			{Start: at(900), End: at(900.01), PeakUV: 80, Potentials: 1},
		},
		Cramps: []simulate.CrampLabel{{Start: at(1000), End: at(1020)}},
		Bouts:  []simulate.BoutLabel{{Start: at(0), End: at(600), Activity: simulate.ActivityRunning, Intensity: "vigorous"}},

		ExpectedStatus: simulate.StatusPostExercise,
	}
}

func twitch(sensor string, a, b float64) *pipeline.Twitch {
	return &pipeline.Twitch{Start: at(a), End: at(b), Sensor: sensor}
}

func TestScore(t *testing.T) {
	l := handLabels()
	evs := []pipeline.Event{
		&pipeline.Bout{Start: at(10), End: at(590), Intensity: "moderate"},
		twitch("emg", 300, 300.02),      // FP during exercise
		twitch("emg", 700.001, 700.012), // TP
		twitch("emg", 700.02, 700.03),   // second detection of the same twitch: FP at rest
		twitch("acc", 700.02, 700.25),   // acc TP
		twitch("emg", 800.06, 800.08),   // TP within 50 ms
		twitch("acc", 800.0, 800.2),     // acc FP at rest: 800 is not visible
		&pipeline.Cramp{Start: at(1001), End: at(1019)},
		&pipeline.Cramp{Start: at(2000), End: at(2010)}, // invented
		&pipeline.Assessment{Time: at(1500), Status: "none"},
		&pipeline.Assessment{Time: at(2399), Status: simulate.StatusPostExercise},
		&pipeline.Summary{},
	}
	r := Score(l, evs, DefaultOptions())
	wantEMG := Detection{True: 3, Detected: 4, TP: 2, FP: 2, FN: 1, FPRest: 1}
	if r.EMG.True != wantEMG.True || r.EMG.Detected != wantEMG.Detected || r.EMG.TP != wantEMG.TP || r.EMG.FP != wantEMG.FP || r.EMG.FN != wantEMG.FN || r.EMG.FPRest != wantEMG.FPRest {
		t.Errorf("EMG %+v, want %+v", r.EMG, wantEMG)
	}
	if math.Abs(r.EMG.FAPerHourRest-2) > 1e-9 { // 1 FP in half an hour of rest
		t.Errorf("EMG FA/h %g, want 2", r.EMG.FAPerHourRest)
	}
	if math.Abs(r.EMG.F1-4.0/7) > 1e-9 { // P 1/2, R 2/3
		t.Errorf("EMG F1 %g, want 4/7", r.EMG.F1)
	}
	if r.Acc.True != 1 || r.Acc.TP != 1 || r.Acc.FP != 1 || r.Acc.FN != 0 || r.Acc.FPRest != 1 {
		t.Errorf("acc %+v", r.Acc)
	}
	if r.Cramps != (Cramps{True: 1, Found: 1, False: 1}) {
		t.Errorf("cramps %+v", r.Cramps)
	}
	if r.Bouts.True != 1 || r.Bouts.Found != 1 || r.Bouts.IntensityAgree != 0 || r.Bouts.Intensities[0] != "vigorous->moderate" {
		t.Errorf("bouts %+v", r.Bouts)
	}
	if !r.Status.Assessed || !r.Status.Agree || r.Status.Got != simulate.StatusPostExercise {
		t.Errorf("status %+v", r.Status)
	}
	if math.Abs(r.RestHours-0.5) > 1e-9 || r.Events != len(evs) {
		t.Errorf("rest hours %g, events %d", r.RestHours, r.Events)
	}
	joined := strings.Join(r.Errors, "\n")
	for _, want := range []string{"emg missed twitch at +900.000s", "emg false twitch at +300.000s", "in exercise", "acc false twitch at +800.000s", "near twitch", "false cramp at +2000.000s", "bout +0.000s..+600.000s running vigorous: got vigorous->moderate"} {
		if !strings.Contains(joined, want) {
			t.Errorf("errors lack %q:\n%s", want, joined)
		}
	}

	misses := Bars(r)
	bars := map[string]bool{}
	for _, m := range misses {
		bars[m.Bar] = true
	}
	for _, want := range []string{"EMG twitch F1", "acc twitch F1", "false cramps", "bout intensity agreement"} {
		if !bars[want] {
			t.Errorf("Bars did not report %q: %v", want, misses)
		}
	}
	if bars["EMG false alarms at rest"] || bars["cramps found"] || bars["bout recall"] {
		t.Errorf("Bars reported a bar that was met: %v", misses)
	}
}

func TestScoreWithoutAssessmentOrDetections(t *testing.T) {
	r := Score(handLabels(), nil, DefaultOptions())
	if r.Status.Got != NotAssessed || r.Status.Assessed || r.Status.Agree {
		t.Errorf("status %+v", r.Status)
	}
	if r.EMG.Recall != 0 || r.EMG.Precision != 1 || r.EMG.F1 != 0 || r.Bouts.Found != 0 || r.Bouts.Intensities[0] != "vigorous->-" {
		t.Errorf("EMG %+v bouts %+v", r.EMG, r.Bouts)
	}
}

func TestBars(t *testing.T) {
	perfect := func() Report {
		d := Detection{True: 10, Detected: 10, TP: 10, Precision: 1, Recall: 1, F1: 1}
		return Report{Scenario: "s", RestHours: 0.5, EMG: d, Acc: d,
			Cramps: Cramps{True: 2, Found: 2},
			Bouts:  Bouts{True: 2, Found: 2, IntensityAgree: 2, Recall: 1, IntensityAgreement: 1}}
	}
	cases := []struct {
		name   string
		change func(*Report)
		want   []string
	}{
		{"perfect", func(*Report) {}, nil},
		{"emg F1 just under", func(r *Report) { r.EMG.F1 = 0.9499 }, []string{"EMG twitch F1"}},
		{"emg F1 at bar", func(r *Report) { r.EMG.F1 = 0.95 }, nil},
		{"acc F1 under", func(r *Report) { r.Acc.F1 = 0.89 }, []string{"acc twitch F1"}},
		{"acc F1 at bar", func(r *Report) { r.Acc.F1 = 0.90 }, nil},
		{"no acc truth nor detections", func(r *Report) { r.Acc = Detection{F1: 0} }, nil},
		{"no acc truth, one false alarm at rest", func(r *Report) { r.Acc = Detection{Detected: 1, FP: 1, FPRest: 1, F1: 0} }, nil},
		{"no EMG truth, two false alarms at rest", func(r *Report) { r.EMG = Detection{Detected: 2, FP: 2, FPRest: 2, F1: 0} }, []string{"EMG false alarms at rest"}},
		{"one FA in half an hour", func(r *Report) { r.EMG.FPRest = 1 }, nil},
		{"two FA in half an hour", func(r *Report) { r.EMG.FPRest = 2 }, []string{"EMG false alarms at rest"}},
		{"three FA in 2.5 h", func(r *Report) { r.RestHours = 2.5; r.Acc.FPRest = 3 }, nil},
		{"four FA in 2.5 h", func(r *Report) { r.RestHours = 2.5; r.Acc.FPRest = 4 }, []string{"acc false alarms at rest"}},
		{"cramp missed", func(r *Report) { r.Cramps.Found = 1 }, []string{"cramps found"}},
		{"cramp invented", func(r *Report) { r.Cramps.False = 1 }, []string{"false cramps"}},
		{"bout missed", func(r *Report) { r.Bouts.Recall = 0.5; r.Bouts.IntensityAgreement = 0.5 }, []string{"bout recall", "bout intensity agreement"}},
		{"wrong intensity", func(r *Report) { r.Bouts.IntensityAgreement = 0.5 }, []string{"bout intensity agreement"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := perfect()
			c.change(&r)
			ms := Bars(r)
			if len(ms) != len(c.want) {
				t.Fatalf("misses %v, want %v", ms, c.want)
			}
			for i, m := range ms {
				if m.Bar != c.want[i] || m.Scenario != "s" || !strings.Contains(m.String(), "want") {
					t.Errorf("miss %d = %+v, want bar %q", i, m, c.want[i])
				}
			}
		})
	}
}

func TestCombine(t *testing.T) {
	a := Score(handLabels(), []pipeline.Event{twitch("emg", 700, 700.01)}, DefaultOptions())
	b := Score(handLabels(), []pipeline.Event{twitch("emg", 800, 800.05), twitch("emg", 1500, 1500.01), &pipeline.Assessment{Status: simulate.StatusPostExercise}}, DefaultOptions())
	o := Combine("overall", []Report{a, b})
	if o.EMG.TP != 2 || o.EMG.FP != 1 || o.EMG.FN != 4 || o.EMG.FPRest != 1 {
		t.Errorf("pooled EMG %+v", o.EMG)
	}
	if math.Abs(o.EMG.FAPerHourRest-1) > 1e-9 || math.Abs(o.RestHours-1) > 1e-9 {
		t.Errorf("pooled FA/h %g over %g h", o.EMG.FAPerHourRest, o.RestHours)
	}
	if o.StatusCases != 2 || o.StatusAgreed != 1 || o.Cramps.True != 2 {
		t.Errorf("pooled %+v", o)
	}
}

func TestReadEvents(t *testing.T) {
	var buf bytes.Buffer
	for _, ev := range []pipeline.Event{twitch("emg", 1, 1.01), &pipeline.Cramp{Start: at(2), End: at(9)}} {
		b, err := pipeline.MarshalEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteString("\n\n")
	}
	evs, err := ReadEvents(bytes.NewReader(buf.Bytes()))
	if err != nil || len(evs) != 2 || evs[1].EventType() != pipeline.TypeCramp {
		t.Fatalf("ReadEvents = %v, %v", evs, err)
	}
	cases := []struct{ name, in, want string }{
		{"bad json", "{\"type\":\"twitch\"}\n\n{oops\n", "line 3"},
		{"unknown type", "{\"type\":\"gossip\"}\n", "line 1: pipeline: unknown event type \"gossip\""},
		{"bad time", "{\"type\":\"twitch\",\"start\":\"yesterday\"}\n", "line 1: pipeline: twitch event"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadEvents(strings.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrEvents) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "e.jsonl")
	if err := os.WriteFile(p, []byte("{\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadEventsFile(p); err == nil || !strings.Contains(err.Error(), p+": ") {
		t.Errorf("file error %v does not name the file", err)
	}
}

func TestSuites(t *testing.T) {
	if Suite("nope") != nil {
		t.Error("unknown suite gave cases")
	}
	full, short := Suite("full"), Suite("short")
	if len(full) < 8 || len(short) != len(full) {
		t.Fatalf("full %d cases, short %d", len(full), len(short))
	}
	noise := map[float64]bool{}
	mains := map[float64]bool{}
	emg := map[float64]bool{}
	acc := map[float64]bool{}
	acts := map[string]bool{}
	statuses := map[string]bool{}
	var fullMin, shortMin float64
	for i, c := range full {
		if err := c.Scenario.Validate(); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
		noise[c.Scenario.NoiseUV] = true
		mains[c.Scenario.MainsHz] = true
		emg[c.Scenario.EMGRate] = true
		acc[c.Scenario.AccRate] = true
		for _, p := range c.Scenario.Phases {
			acts[p.Activity] = true
		}
		l := planLabels(t, c)
		statuses[l.ExpectedStatus] = true
		fullMin += c.Scenario.Seconds() / 60
		shortMin += short[i].Scenario.Seconds() / 60
		if short[i].Name != c.Name || short[i].Scenario.Seconds() > c.Scenario.Seconds() {
			t.Errorf("short case %d is not a shortened %s", i, c.Name)
		}
	}
	if !noise[2] || !noise[20] || !mains[50] || !mains[60] || !emg[500] || !emg[1000] || !emg[2000] || !acc[25] || !acc[50] || !acc[100] {
		t.Errorf("suite does not span the settings: noise %v mains %v emg %v acc %v", noise, mains, emg, acc)
	}
	for _, a := range []string{simulate.ActivityRunning, simulate.ActivityLifting, simulate.ActivityCycling} {
		if !acts[a] {
			t.Errorf("no %s in the suite", a)
		}
	}
	for _, s := range []string{simulate.StatusNone, simulate.StatusPostExercise, simulate.StatusCeased, simulate.StatusPersistent, simulate.StatusPersistentWithSymptoms} {
		if !statuses[s] {
			t.Errorf("no case expects status %s", s)
		}
	}
	t.Logf("full suite %.0f min of recordings, short %.0f min", fullMin, shortMin)
}

func planLabels(t *testing.T, c Case) *simulate.Labels {
	t.Helper()
	l, err := simulate.PlanLabels(c.Scenario, c.Seed)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestRunSuiteShort runs the short suite end to end: generation, the csv
// decoder, the detectors and the rule through session.ReplayFile, and
// scoring. It checks the plumbing, not the bars (the detectors are still
// being tuned; Bars is tested above on synthetic reports).
func TestRunSuiteShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every short-suite scenario")
	}
	dir := t.TempDir()
	cases := Suite("short")
	rs, err := RunSuite(context.Background(), cases, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(cases) {
		t.Fatalf("%d reports for %d cases", len(rs), len(cases))
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, rs, SuiteMisses(rs)); err != nil {
		t.Fatal(err)
	}
	t.Logf("short suite:\n%s", buf.String())
	for i, r := range rs {
		c := cases[i]
		l, err := LoadLabels(filepath.Join(dir, c.Name+".labels.json"))
		if err != nil {
			t.Fatal(err)
		}
		evs, err := ReadEventsFile(filepath.Join(dir, c.Name+".events.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		again := Score(l, evs, DefaultOptions())
		if r.Scenario != c.Name || again.EMG != r.EMG || again.Acc != r.Acc || again.Cramps != r.Cramps {
			t.Errorf("%s: scoring the files again gives %+v, the run gave %+v", c.Name, again, r)
		}
		if r.EMG.True != len(l.Twitches) || r.Cramps.True != len(l.Cramps) || r.Bouts.True != len(l.Bouts) {
			t.Errorf("%s: truth counts do not match the labels", c.Name)
		}
		var summaries int
		for _, ev := range evs {
			if s, ok := ev.(*pipeline.Summary); ok {
				summaries++
				if s.Format != "csv" || len(s.Channels) != 4 {
					t.Errorf("%s: summary %+v", c.Name, s)
				}
			}
		}
		if summaries != 1 {
			t.Errorf("%s: %d summaries", c.Name, summaries)
		}
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, rs, nil); err != nil || !strings.Contains(js.String(), "\"overall\"") || !strings.Contains(js.String(), "\"misses\": []") {
		t.Errorf("JSON output: %v\n%s", err, js.String())
	}
}

// TestMatchExported checks that Match pairs as the scorer does: one
// detection per truth (the one overlapping most), a second detection of
// one truth left over, the tolerance on both sides.
func TestMatchExported(t *testing.T) {
	ms := int64(time.Millisecond)
	truth := []Interval{{0, 10 * ms}, {1000 * ms, 1020 * ms}}
	det := []Interval{{2 * ms, 8 * ms}, {5 * ms, 12 * ms}, {1060 * ms, 1070 * ms}, {500 * ms, 510 * ms}}
	pairs, un := Match(truth, det, 50*time.Millisecond)
	if len(pairs) != 2 || pairs[0] != [2]int{0, 1} || pairs[1] != [2]int{1, 2} {
		t.Errorf("pairs %v, want [[0 1] [1 2]]", pairs)
	}
	if len(un) != 2 || un[0] != 0 || un[1] != 3 {
		t.Errorf("unmatched %v, want [0 3]", un)
	}
	if pairs, _ := Match(truth, det[2:3], 30*time.Millisecond); len(pairs) != 0 {
		t.Errorf("a detection 40 ms after the truth matched with a 30 ms tolerance: %v", pairs)
	}
}
