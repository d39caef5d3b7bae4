package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/pipeline"
)

// familyLabels: handLabels with schema-2 fields: the twitch at 700 s
// jerks plainly (30 mg over 2 mg of noise), the one at 800 s only a
// little (8 mg: neither truth nor false alarm), and an expectation per
// modality.
func familyLabels() *simulate.Labels {
	l := handLabels()
	for i := range l.Twitches {
		l.Twitches[i].AccNoiseMg = 2
		l.Twitches[i].Context = pipeline.PhasePostExercise
	}
	l.Twitches[1].InAcc, l.Twitches[1].AccStart, l.Twitches[1].AccEnd, l.Twitches[1].AccPeakMg = true, at(800.06), at(800.3), 8
	l.Expected = &simulate.Expectation{
		Both: simulate.ModalityStatus{Status: simulate.StatusPostExercise, Reason: "both"},
		EMG:  simulate.ModalityStatus{Status: simulate.StatusPostExercise, Reason: "emg"},
		Acc:  simulate.ModalityStatus{Status: simulate.StatusNone, Reason: "acc"},
	}
	l.Bouts = append(l.Bouts, simulate.BoutLabel{Start: at(1200), End: at(1500), Activity: simulate.ActivityLifting, Intensity: "moderate", Sets: 3})
	return l
}

func TestScoreModalities(t *testing.T) {
	l := familyLabels()
	evs := []pipeline.Event{
		&pipeline.Bout{Start: at(10), End: at(590), Intensity: "vigorous"},
		&pipeline.Bout{Start: at(1200), End: at(1300)}, // the lifting bout, split in three
		&pipeline.Bout{Start: at(1350), End: at(1400)},
		&pipeline.Bout{Start: at(1420), End: at(1500)},
		&pipeline.Bout{Start: at(2000), End: at(2100)}, // invented
		&pipeline.Twitch{Start: at(700.001), End: at(700.012), Sensor: "emg", Phase: pipeline.PhasePostExercise},
		&pipeline.Twitch{Start: at(700.02), End: at(700.25), Sensor: "acc", Phase: pipeline.PhaseRest},
		twitch("acc", 800.07, 800.2), // the small jerk: ignored
		&pipeline.Cramp{Start: at(1001), End: at(1019)},
		&pipeline.Assessment{Time: at(2399), Status: simulate.StatusPersistent, Reason: "because"},
	}
	for _, c := range []struct {
		mod                     string
		emgScored, accScored    bool
		crampTruths             int
		expected                string
		falsePersistent, agreed int
	}{
		{simulate.ModBoth, true, true, 1, simulate.StatusPostExercise, 0, 0},
		{simulate.ModEMG, true, false, 1, simulate.StatusPostExercise, 0, 0},
		{simulate.ModAcc, false, true, 0, simulate.StatusNone, 1, 0},
	} {
		t.Run(c.mod, func(t *testing.T) {
			opt := DefaultOptions()
			opt.Modality = c.mod
			r := Score(l, evs, opt)
			if r.Modality != c.mod || r.EMG.Scored != c.emgScored || r.Acc.Scored != c.accScored || r.Cramps.True != c.crampTruths {
				t.Fatalf("modality %s: EMG scored %v, acc scored %v, cramps %+v", r.Modality, r.EMG.Scored, r.Acc.Scored, r.Cramps)
			}
			if c.accScored && (r.Acc.True != 1 || r.Acc.TP != 1 || r.Acc.FP != 0 || r.Acc.Ignored != 1 || r.Acc.PhaseAgree != 0) {
				t.Errorf("acc %+v: want the plain jerk found, the small one ignored, the phase wrong", r.Acc)
			}
			if c.emgScored && (r.EMG.TP != 1 || r.EMG.PhaseAgree != 1) {
				t.Errorf("EMG %+v", r.EMG)
			}
			if r.Status.Expected != c.expected || r.Status.GotReason != "because" || r.FalsePersistent != c.falsePersistent || r.StatusAgreed != c.agreed || r.StatusCases != 1 {
				t.Errorf("status %+v, false persistent %d", r.Status, r.FalsePersistent)
			}
			if b := r.Bouts; b.True != 2 || b.Found != 1 || b.Split != 1 || b.Pieces != 4 || b.Invented != 1 {
				t.Errorf("bouts %+v: want the run found, the lifting bout split in 3, one invented", b)
			}
		})
	}
	// The session's twitching really persisted (both sensors), below
	// what the oracle deems visible to the accelerometer: the acc-only
	// replay's persistent disagrees with its expectation (none) but is
	// no false alarm; the session that had none is one.
	opt := DefaultOptions()
	opt.Modality = simulate.ModAcc
	l.Expected.Both.Status = simulate.StatusPersistent
	if r := Score(l, evs, opt); r.StatusCases != 1 || r.StatusAgreed != 0 || r.FalsePersistent != 0 {
		t.Errorf("persisting session, acc replay: agreed %d, false persistent %d; want 0, 0", r.StatusAgreed, r.FalsePersistent)
	}
	l.Expected.Both.Status = simulate.StatusNone
	if r := Score(l, evs, opt); r.FalsePersistent != 1 {
		t.Errorf("session without twitching, acc replay: false persistent %d, want 1", r.FalsePersistent)
	}
	l.Expected.Both.Status = simulate.StatusPostExercise
	l.Expected.Both.Ambiguous = "borderline"
	if r := Score(l, evs, DefaultOptions()); r.StatusCases != 0 || r.FalsePersistent != 0 {
		t.Errorf("an ambiguous expectation was judged: %+v", r)
	}
}

// familyReport is a perfect report of a family case and modality.
func familyReport(family, split, mod string) Report {
	d := Detection{Scored: true, True: 20, Detected: 20, TP: 20, Precision: 1, Recall: 1, F1: 1}
	r := Report{Scenario: family + "-1", Family: family, Split: split, Modality: mod, Seconds: 1800, RestHours: 0.25,
		EMG: d, Acc: d, StatusCases: 1, StatusAgreed: 1,
		Status: Status{Expected: simulate.StatusCeased, Got: simulate.StatusCeased, Agree: true}}
	switch mod {
	case simulate.ModEMG:
		r.Acc = Detection{}
	case simulate.ModAcc:
		r.EMG = Detection{}
	}
	return r
}

func TestFamilyBars(t *testing.T) {
	held, tune := string(simulate.SplitHeldOut), string(simulate.SplitTune)
	cases := []struct {
		name   string
		change func(rs []Report)
		want   []string // bars, in order
	}{
		{"perfect", func([]Report) {}, nil},
		{"EMG recall falls in one held-out case", func(rs []Report) {
			rs[0].EMG.TP, rs[0].EMG.FN = 10, 10 // pooled with the second case: 30/40
		}, []string{"EMG twitch F1"}},
		{"acc-only F1 under 0.90", func(rs []Report) { rs[5].Acc.TP, rs[5].Acc.FN = 12, 8 }, []string{"acc twitch F1 (>= 6x noise)"}},
		{"one false alarm in half an hour of rest is allowed", func(rs []Report) { rs[1].EMG.FPRest = 1 }, nil},
		{"two are not", func(rs []Report) { rs[1].EMG.FPRest, rs[4].EMG.FPRest = 1, 1 }, []string{"EMG false alarms at rest"}},
		{"acc false alarms without acc truths", func(rs []Report) {
			rs[2].Acc = Detection{Scored: true, FP: 2, FPRest: 2, Detected: 2, Precision: 0, Recall: 1}
			rs[5].Acc = Detection{Scored: true}
		}, []string{"acc false alarms at rest"}},
		{"a wrong status", func(rs []Report) {
			rs[0].Status.Got, rs[0].Status.Agree, rs[0].StatusAgreed = simulate.StatusPostExercise, false, 0
		}, []string{"status"}},
		{"persistent where twitching ceased", func(rs []Report) {
			rs[4].Status.Got, rs[4].Status.Agree, rs[4].StatusAgreed, rs[4].FalsePersistent = simulate.StatusPersistent, false, 0, 1
		}, []string{"status", "persistent* without persisting twitching"}},
		{"an ambiguous case is not judged", func(rs []Report) {
			rs[0].Status.Got, rs[0].Status.Agree, rs[0].StatusAgreed, rs[0].StatusCases = simulate.StatusPostExercise, false, 0, 0
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Two cases of a held-out family, each replayed three ways:
			// rs[0..2] case 1 both/emg/acc, rs[3..5] case 2; a perfect
			// tune family after them.
			var rs []Report
			for k := 1; k <= 2; k++ {
				for _, m := range simulate.Modalities {
					r := familyReport("a-held", held, m)
					r.Scenario = "a-held-" + string(rune('0'+k))
					rs = append(rs, r)
				}
			}
			c.change(rs)
			for _, m := range simulate.Modalities {
				rs = append(rs, familyReport("b-tune", tune, m))
			}
			ms := FamilyBars(rs)
			if len(ms) != len(c.want) {
				t.Fatalf("misses %v, want %v", ms, c.want)
			}
			for i, m := range ms {
				if m.Bar != c.want[i] || m.Split != held || m.String() == "" {
					t.Errorf("miss %d = %+v, want bar %q on the held-out family", i, m, c.want[i])
				}
			}
			if len(HeldOutMisses(ms)) != len(ms) {
				t.Errorf("HeldOutMisses dropped some of %v", ms)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	var rs []Report
	for _, f := range []struct{ name, split string }{{"a-tune", "tune"}, {"a-held", "held-out"}} {
		for _, m := range simulate.Modalities {
			rs = append(rs, familyReport(f.name, f.split, m))
		}
	}
	rs[3].Status.Got, rs[3].Status.Agree, rs[3].StatusAgreed, rs[3].FalsePersistent = simulate.StatusPersistent, false, 0, 1 // held-out, both sensors
	rs[5].Status.Got, rs[5].Status.Agree, rs[5].StatusAgreed = NotAssessed, false, 0
	s := Summarize(rs)
	if len(s.Families) != 2 || s.Families[0].Cases != 1 || s.Families[1].Modality[simulate.ModAcc].EMG.Scored {
		t.Fatalf("families %+v", s.Families)
	}
	if len(s.Splits) != 2 || s.Splits[0].Split != "tune" || s.Splits[1].Cases != 1 {
		t.Fatalf("splits %+v", s.Splits)
	}
	byKey := map[string]Confusion{}
	for _, c := range s.Confusion {
		byKey[c.Split+"/"+c.Modality] = c
	}
	ceased := pipeline.StatusCeased.Level()
	if c := byKey["all/all"]; c.Counts[ceased][ceased] != 4 || c.Counts[ceased][pipeline.StatusPersistent.Level()] != 1 || c.Counts[ceased][len(c.Got)-1] != 1 {
		t.Errorf("overall confusion %v", c.Counts)
	}
	if c := byKey["held-out/all"]; c.Counts[ceased][ceased] != 1 {
		t.Errorf("held-out confusion %v", c.Counts)
	}
	var buf bytes.Buffer
	if err := WriteFamilyTable(&buf, rs, FamilyBars(rs)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"EMG both P/R/F1", "pooled", "tune", "held-out", "status confusion, held-out families", "persist", "held-out a-held-1 [both]: status: expected ceased, got persistent"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	if err := WriteFamilyJSON(&buf, rs, FamilyBars(rs)); err != nil {
		t.Fatal(err)
	}
	var back FamilyJSON
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.HeldOutMisses != 3 || len(back.Summary.Confusion) != 6 {
		t.Errorf("JSON: %v, %d held-out misses, %d matrices", err, back.HeldOutMisses, len(back.Summary.Confusion))
	}
}

// TestRunCaseModalities replays one short family case three times
// through the whole pipeline and checks the plumbing: each replay saw
// only its sensors, its files are kept, scoring them again agrees.
func TestRunCaseModalities(t *testing.T) {
	if testing.Short() {
		t.Skip("replays a recording three times")
	}
	f, err := simulate.FamilyByName("walk-tune")
	if err != nil {
		t.Fatal(err)
	}
	cases := FamilyCases([]simulate.Family{f}, true)[:1]
	cases[0].Scenario = cases[0].Scenario.Scaled(3)
	cases[0].Scenario.EMGRate = 500
	dir := t.TempDir()
	rs, err := RunSuite(context.Background(), cases, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 {
		t.Fatalf("%d reports", len(rs))
	}
	l, err := LoadLabels(filepath.Join(dir, cases[0].Name+".labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	channels := map[string]int{simulate.ModBoth: 4, simulate.ModEMG: 1, simulate.ModAcc: 3}
	for _, r := range rs {
		if r.Family != "walk-tune" || r.Split != "tune" || r.Scenario != cases[0].Name {
			t.Errorf("report names %q %q %q", r.Scenario, r.Family, r.Split)
		}
		evs, err := ReadEventsFile(filepath.Join(dir, cases[0].Name+fileSuffix[r.Modality]+".events.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			switch e := ev.(type) {
			case *pipeline.Summary:
				if len(e.Channels) != channels[r.Modality] {
					t.Errorf("%s: %d channels", r.Modality, len(e.Channels))
				}
			case *pipeline.Twitch:
				if (e.Sensor == "emg" && r.Modality == simulate.ModAcc) || (e.Sensor == "acc" && r.Modality == simulate.ModEMG) {
					t.Errorf("%s replay reported an %s twitch", r.Modality, e.Sensor)
				}
			}
		}
		opt := DefaultOptions()
		opt.Modality = r.Modality
		again := Score(l, evs, opt)
		if again.EMG != r.EMG || again.Acc != r.Acc || again.Status != r.Status || again.Bouts.Found != r.Bouts.Found {
			t.Errorf("%s: scoring the files again gives %+v, the run gave %+v", r.Modality, again, r)
		}
	}
}

// TestLOFOSelect checks the choice of leave-one-family-out on made-up
// runs: a family's own scores never decide its thresholds.
func TestLOFOSelect(t *testing.T) {
	params := []TunedParam{{Name: "OnSigma", Values: []float64{5, 7}}}
	combos := grid(params)
	if len(combos) != 2 || combos[1][0] != 7 {
		t.Fatalf("grid %v", combos)
	}
	mk := func(f1a, f1b, f1c float64) []Report {
		var rs []Report
		for _, f := range []struct {
			name string
			f1   float64
		}{{"a", f1a}, {"b", f1b}, {"c", f1c}} {
			r := familyReport(f.name, "tune", simulate.ModBoth)
			r.EMG.TP = int(f.f1 * 20)
			r.EMG.FN = 20 - r.EMG.TP
			r.EMG.finish(r.RestHours)
			rs = append(rs, r)
		}
		return rs
	}
	runs := [][]Report{mk(1, 0.5, 0.5), mk(0.5, 1, 1)} // OnSigma 5 suits a, 7 suits b and c
	res := lofoSelect(runs, combos, params, 1)
	if len(res) != 3 {
		t.Fatalf("%d results", len(res))
	}
	// Leaving a out, 7 is perfect on b and c. Leaving b out, 5 and 7 tie
	// on a and c (one miss each, same mean) and the first is kept: b gets
	// 5 although 7 would suit it, because its own scores do not count.
	for i, want := range []float64{7, 5, 5} {
		if res[i].Chosen["OnSigma"] != want {
			t.Errorf("%s: chose %v, want OnSigma=%g", res[i].Family, res[i].Chosen, want)
		}
	}
	if a := res[0]; a.Family != "a" || a.Chosen["OnSigma"] != 7 || a.Misses != 1 || a.DefaultMisses != 1 || a.Row.Modality[simulate.ModBoth].EMG.F1 > 0.7 {
		t.Errorf("a: %+v", a)
	}
	var buf bytes.Buffer
	if err := WriteLOFOTable(&buf, res, params); err != nil || !strings.Contains(buf.String(), "OnSigma=7") {
		t.Errorf("table: %v\n%s", err, buf.String())
	}
}
