package rule

import (
	"math"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

func pb(startMin, endMin float64, intensity string) PastBout {
	return PastBout{Start: at(startMin), End: at(endMin), Intensity: intensity}
}

// dayBouts returns one bout a day of the given minutes, on days from..to
// (negative = before t0).
func dayBouts(from, to int, minutes float64, intensity string) []PastBout {
	var out []PastBout
	for d := from; d <= to; d++ {
		m := float64(d) * 24 * 60
		out = append(out, pb(m-120, m-120+minutes, intensity))
	}
	return out
}

func ids(as []Advice) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func TestAdvice(t *testing.T) {
	const V, M, L = pipeline.IntensityVigorous, pipeline.IntensityModerate, pipeline.IntensityLight
	now := at(200)
	steady := dayBouts(-27, -8, 30, M) // four weeks of moderate sessions, then...
	jump := append(append([]PastBout{}, steady...), dayBouts(-6, -1, 90, V)...)
	cases := []struct {
		name    string
		f       facts
		want    []string // IDs that must be present, in order
		notWant []string
	}{
		{
			name: "no twitching, no data: nothing",
			f:    facts{status: StatusNone, now: now},
			want: nil, notWant: []string{AdviceHydrate, AdviceWarmUp, AdviceMedicalOpinion},
		},
		{
			name:    "vigorous without warm-up",
			f:       facts{status: StatusNone, now: now, session: []PastBout{pb(0, 30, V)}},
			want:    []string{AdviceWarmUp},
			notWant: []string{AdviceHydrate},
		},
		{
			name:    "vigorous after a 6 min light warm-up",
			f:       facts{status: StatusNone, now: now, session: []PastBout{pb(0, 6, L), pb(8, 38, V)}},
			notWant: []string{AdviceWarmUp},
		},
		{
			name: "warm-up too long before",
			f:    facts{status: StatusNone, now: now, session: []PastBout{pb(0, 6, L), pb(30, 60, V)}},
			want: []string{AdviceWarmUp},
		},
		{
			name: "warm-up too short",
			f:    facts{status: StatusNone, now: now, session: []PastBout{pb(0, 3, M), pb(4, 34, V)}},
			want: []string{AdviceWarmUp},
		},
		{
			name: "load jump",
			f:    facts{status: StatusNone, now: now, all: jump},
			want: []string{AdviceLoadJump}, notWant: []string{AdviceDaysOff}, // no bout today: no streak
		},
		{
			name:    "steady load",
			f:       facts{status: StatusNone, now: now, all: dayBouts(-27, 0, 30, M)},
			notWant: []string{AdviceLoadJump},
		},
		{
			name:    "five days in a row is fine",
			f:       facts{status: StatusNone, now: now, all: dayBouts(-4, 0, 30, M)},
			notWant: []string{AdviceDaysOff},
		},
		{
			name: "six days in a row",
			f:    facts{status: StatusNone, now: now, all: dayBouts(-5, 0, 30, M)},
			want: []string{AdviceDaysOff},
		},
		{
			name: "long hard session",
			f:    facts{status: StatusNone, now: now, session: []PastBout{pb(0, 10, L), pb(10, 85, V)}},
			want: []string{AdviceElectrolytes},
		},
		{
			name:    "twitching with cramps",
			f:       facts{status: StatusPostExercise, twitching: true, cramps: 1, now: now},
			want:    []string{AdviceKeepWatching, AdviceElectrolytes, AdviceStretch, AdviceGradual, AdviceRestDays, AdviceRelax},
			notWant: []string{AdviceHydrate},
		},
		{
			name: "twitching: the article's basics",
			f:    facts{status: StatusCeased, twitching: true, now: now},
			want: []string{AdviceGoodSign, AdviceHydrate, AdviceStretch, AdviceGradual, AdviceRestDays, AdviceRelax},
		},
		{
			name:    "at_rest: watch for recurrence and the article's prevention, no medical item",
			f:       facts{status: StatusAtRest, twitching: true, now: now},
			want:    []string{AdviceWatchRecurrence, AdviceHydrate, AdviceStretch, AdviceGradual, AdviceRestDays, AdviceRelax},
			notWant: []string{AdviceMedicalOpinion, AdviceMedicalAssistance, AdviceKeepWatching},
		},
		{
			name:    "post_exercise: no medical item",
			f:       facts{status: StatusPostExercise, twitching: true, now: now},
			want:    []string{AdviceKeepWatching},
			notWant: []string{AdviceMedicalOpinion, AdviceMedicalAssistance},
		},
		{
			name:    "persistent",
			f:       facts{status: StatusPersistent, twitching: true, now: now},
			want:    []string{AdviceMedicalOpinion, AdviceHydrate},
			notWant: []string{AdviceMedicalAssistance},
		},
		{
			name: "persistent with symptoms",
			f:    facts{status: StatusPersistentWithSymptoms, twitching: true, now: now},
			want: []string{AdviceMedicalAssistance},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := adviseFor(DefaultConfig(), tc.f)
			gotIDs := ids(got)
			pos := -1
			for _, w := range tc.want {
				i := indexOf(gotIDs, w)
				if i < 0 {
					t.Errorf("advice %v lacks %s", gotIDs, w)
					continue
				}
				if i < pos {
					t.Errorf("advice %v: %s out of order", gotIDs, w)
				}
				pos = i
			}
			for _, nw := range tc.notWant {
				if indexOf(gotIDs, nw) >= 0 {
					t.Errorf("advice %v has %s", gotIDs, nw)
				}
			}
			if tc.want == nil && len(tc.notWant) > 0 && tc.f.status == StatusNone && len(tc.f.all) == 0 && len(tc.f.session) == 0 && len(got) != 0 {
				t.Errorf("advice %v, want none", gotIDs)
			}
			for _, a := range got {
				if a.Text == "" || a.Why == "" {
					t.Errorf("advice %+v lacks text or reason", a)
				}
			}
		})
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestACWR(t *testing.T) {
	now := at(200)
	cases := []struct {
		name  string
		bouts []PastBout
		want  float64
		ok    bool
	}{
		{"no history", nil, 0, false},
		{"too short a history", dayBouts(-10, 0, 30, "moderate"), 0, false},
		{"steady", dayBouts(-27, 0, 30, "moderate"), 1, true},
		// 4 weeks of 30 min moderate (4.5) = 135/day; last week doubled to 60 min:
		// acute 7*270 = 1890; chronic (21*135 + 7*270)/4 = 1181.25; ratio 1.6.
		{"doubled last week", append(dayBouts(-27, -7, 30, "moderate"), dayBouts(-6, 0, 60, "moderate")...), 1.6, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := acwr(DefaultConfig(), tc.bouts, now)
			if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("acwr = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestNoticeAndAdviceWording keeps the texts free of diagnoses: no disease
// names, and medical items say "consider seeking".
func TestNoticeAndAdviceWording(t *testing.T) {
	texts := []string{Notice}
	for _, v := range adviceText {
		texts = append(texts, v)
	}
	for _, s := range texts {
		checkWording(t, s)
	}
	for _, id := range []string{AdviceMedicalOpinion, AdviceMedicalAssistance} {
		if !strings.Contains(adviceText[id], "consider seeking") {
			t.Errorf("%s: %q lacks \"consider seeking\"", id, adviceText[id])
		}
	}
	for _, must := range []string{"not a medical device", "does not diagnose", "consider seeking a medical opinion"} {
		if !strings.Contains(Notice, must) {
			t.Errorf("Notice lacks %q", must)
		}
	}
}

// checkWording fails when s names a disease or reads as a diagnosis.
func checkWording(t *testing.T, s string) {
	t.Helper()
	low := strings.ToLower(s)
	words := strings.FieldsFunc(low, func(r rune) bool { return strings.ContainsRune(" ,.():;", r) })
	for _, banned := range []string{"als", "amyotrophic", "sclerosis", "disease", "diagnosis:", "you have", "neuron"} {
		for _, w := range words {
			if w == banned {
				t.Errorf("text names %q: %s", banned, s)
			}
		}
		if len(banned) > 3 && strings.Contains(low, banned) {
			t.Errorf("text contains %q: %s", banned, s)
		}
	}
}
