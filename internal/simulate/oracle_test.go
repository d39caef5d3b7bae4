package simulate

import (
	"strings"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

// story builds labels by hand: bouts and twitches in seconds from the
// start, every twitch plainly visible in the accelerometer unless listed
// in weak (peak 5x the noise) or hidden (not in the accelerometer).
type story struct {
	minutes float64
	bouts   [][2]float64 // seconds
	tw      []float64
	weak    map[int]bool
	hidden  map[int]bool
	cramps  int
}

func (s story) labels() *Labels {
	ts := func(sec float64) pipeline.Timestamp {
		return pipeline.Timestamp(DefaultStart.UnixNano() + int64(sec*1e9))
	}
	l := &Labels{Schema: LabelsSchema, Start: ts(0), End: ts(s.minutes * 60)}
	for _, b := range s.bouts {
		l.Bouts = append(l.Bouts, BoutLabel{Start: ts(b[0]), End: ts(b[1]), Activity: ActivityRunning, Intensity: "moderate", ActiveS: b[1] - b[0]})
	}
	for i, t := range s.tw {
		tl := TwitchLabel{Start: ts(t), End: ts(t + 0.01), InAcc: !s.hidden[i], AccPeakMg: 30, AccNoiseMg: 2}
		if s.weak[i] {
			tl.AccPeakMg = 10
		}
		l.Twitches = append(l.Twitches, tl)
	}
	for k := 0; k < s.cramps; k++ {
		l.Cramps = append(l.Cramps, CrampLabel{Start: ts(1), End: ts(20)})
	}
	return l
}

// every returns n twitch times from a, step seconds apart.
func every(a, step float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = a + float64(i)*step
	}
	return out
}

func cat(xs ...[]float64) []float64 {
	var out []float64
	for _, x := range xs {
		out = append(out, x...)
	}
	return out
}

func TestExpect(t *testing.T) {
	run := [2]float64{0, 600}         // 10 min of running
	resumed := [2]float64{1500, 1980} // 8 min resumed at 25 min
	before := every(700, 12, 60)      // 5/min at rest from 11:40 to 23:40
	after := every(2000, 12, 30)      // 5/min after resuming
	cases := []struct {
		name           string
		s              story
		both, emg, acc string
		ambiguous      string // substring of the both-sensors ambiguity, "" for none
		accAmbiguous   bool
	}{
		{"no twitching", story{minutes: 30, bouts: [][2]float64{run}}, StatusNone, StatusNone, StatusNone, "", false},
		{"four within five minutes is no episode but borderline",
			story{minutes: 30, bouts: [][2]float64{run}, tw: every(700, 60, 4)}, StatusNone, StatusNone, StatusNone, "at most 4 twitches", false},
		{"twitching after running, not resumed",
			story{minutes: 25, bouts: [][2]float64{run}, tw: before}, StatusPostExercise, StatusPostExercise, StatusPostExercise, "", false},
		{"twitching at rest without exercise",
			story{minutes: 20, tw: every(60, 10, 60)}, StatusAtRest, StatusAtRest, StatusAtRest, "", false},
		{"stops after resuming",
			story{minutes: 40, bouts: [][2]float64{run, resumed}, tw: before}, StatusCeased, StatusCeased, StatusCeased, "", false},
		{"goes on after resuming",
			story{minutes: 40, bouts: [][2]float64{run, resumed}, tw: cat(before, after)}, StatusPersistent, StatusPersistent, StatusPersistent, "", false},
		{"goes on after resuming, with cramps: the EMG sees them",
			story{minutes: 40, bouts: [][2]float64{run, resumed}, tw: cat(before, after), cramps: 2}, StatusPersistentWithSymptoms, StatusPersistentWithSymptoms, StatusPersistent, "", false},
		{"cramps alone do not raise post_exercise",
			story{minutes: 25, bouts: [][2]float64{run}, tw: before, cramps: 1}, StatusPostExercise, StatusPostExercise, StatusPostExercise, "", false},
		{"rate above a quarter after resuming but no episode: thin evidence",
			story{minutes: 45, bouts: [][2]float64{run, resumed}, tw: cat(every(700, 40, 12), every(2000, 100, 6))},
			StatusPostExercise, StatusPostExercise, StatusPostExercise, "at most 4 twitches within 5 min after resuming", false},
		{"rest after resuming too short to judge",
			story{minutes: 35, bouts: [][2]float64{run, resumed}, tw: before}, StatusPostExercise, StatusPostExercise, StatusPostExercise, "", false},
		{"resumption shorter than five minutes",
			story{minutes: 40, bouts: [][2]float64{run, {1500, 1680}}, tw: before}, StatusPostExercise, StatusPostExercise, StatusPostExercise, "", false},
		{"at rest, then a walk, twitching goes on: still at_rest",
			story{minutes: 40, bouts: [][2]float64{resumed}, tw: cat(every(60, 12, 100), after)}, StatusAtRest, StatusAtRest, StatusAtRest, "", false},
		{"at rest, then a walk, twitching stops: ceased",
			story{minutes: 40, bouts: [][2]float64{resumed}, tw: every(60, 12, 100)}, StatusCeased, StatusCeased, StatusCeased, "", false},
		{"still an episode more than 6 h after exercise",
			story{minutes: 7 * 60, bouts: [][2]float64{run}, tw: cat(before, every(600+6.2*3600, 12, 20))}, StatusPersistent, StatusPersistent, StatusPersistent, "", false},
		{"the accelerometer sees too few twitches for an episode",
			story{minutes: 25, bouts: [][2]float64{run}, tw: before, hidden: hideAllBut(60, 20)}, StatusPostExercise, StatusPostExercise, StatusNone, "", false},
		{"acc status hinges on jerks between 4x and 6x the noise",
			story{minutes: 25, bouts: [][2]float64{run}, tw: before, weak: hideAllBut(60, 20)}, StatusPostExercise, StatusPostExercise, StatusNone, "", true},
		{"rate ratio near a quarter is borderline",
			story{minutes: 45, bouts: [][2]float64{run, resumed}, tw: cat(before, every(2000, 40, 15))}, StatusPersistent, StatusPersistent, StatusPersistent, "rate after / before", false},
		{"a bout of 40 s is borderline",
			story{minutes: 25, bouts: [][2]float64{{0, 40}}, tw: before}, StatusPostExercise, StatusPostExercise, StatusPostExercise, "only 40 s of activity", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := Expect(c.s.labels())
			for _, m := range []struct{ mod, want string }{{ModBoth, c.both}, {ModEMG, c.emg}, {ModAcc, c.acc}} {
				if got := e.For(m.mod); got.Status != m.want {
					t.Errorf("%s: %s (%s), want %s", m.mod, got.Status, got.Reason, m.want)
				}
			}
			switch {
			case c.ambiguous == "" && e.Both.Ambiguous != "":
				t.Errorf("unexpectedly ambiguous: %s", e.Both.Ambiguous)
			case c.ambiguous != "" && !strings.Contains(e.Both.Ambiguous, c.ambiguous):
				t.Errorf("ambiguity %q, want one mentioning %q", e.Both.Ambiguous, c.ambiguous)
			}
			if c.accAmbiguous != (e.Acc.Ambiguous != "") && c.ambiguous == "" {
				t.Errorf("acc ambiguity %q, want ambiguous=%v", e.Acc.Ambiguous, c.accAmbiguous)
			}
			if e.Both.Reason == "" {
				t.Error("no reason")
			}
		})
	}
}

// hideAllBut marks all of n twitches but every k-th.
func hideAllBut(n, k int) map[int]bool {
	m := map[int]bool{}
	for i := 0; i < n; i++ {
		if i%k != 0 {
			m[i] = true
		}
	}
	return m
}

// TestExpectReasonsCarryEvidence checks that the reason names counts,
// times and rates, so a disagreement can be understood from the report.
func TestExpectReasonsCarryEvidence(t *testing.T) {
	s := story{minutes: 40, bouts: [][2]float64{{0, 600}, {1500, 1980}}, tw: every(700, 12, 60)}
	r := Expect(s.labels()).Both.Reason
	for _, want := range []string{"episode from +700s", "60 twitches at rest", "after the bout ending +600s", "resumed +1500s..+1980s (8.0 min)", "0.00/min after vs 4.30/min before"} {
		if !strings.Contains(r, want) {
			t.Errorf("reason %q lacks %q", r, want)
		}
	}
}
