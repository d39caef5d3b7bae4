package eval

import (
	"fmt"
	"math"

	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/pipeline"
)

// The families suite (simulate.Families) is judged by issue 9's bars,
// per family and modality, with the tune and held-out families reported
// side by side.

// Family bars (issue 9).
const (
	FamilyEMGF1 = 0.95 // EMG twitch F1 in every family, both sensors and EMG alone
	FamilyAccF1 = 0.90 // accelerometer twitch F1 (jerks >= 6x the noise), both and acc alone
	FamilyFAh   = 1.0  // false alarms per hour of rest, EMG and accelerometer
)

// FamilyBars checks a families run against issue 9's bars and returns
// the misses:
//
//   - per family and modality, pooled over the family's cases: EMG twitch
//     F1 >= 0.95 (both sensors and EMG alone) and accelerometer twitch F1
//     >= 0.90 on the jerks at least 6x the per-axis noise (both sensors
//     and accelerometer alone), where there is something to find; at most
//     one false alarm per hour of rest for each (counted as at most
//     ceil(rest hours) false twitches at rest, so a family with less than
//     an hour of rest may have one). The accelerometer's false alarms are
//     a bar too: without true twitches its F1 says nothing;
//   - per case and modality: the expected status (cases whose expectation
//     is ambiguous are not judged), and, as its own bar, never
//     persistent* where the twitching ceased or there was none.
func FamilyBars(rs []Report) []Miss {
	var ms []Miss
	for _, g := range groupReports(rs, func(r Report) string { return r.Family + "\x00" + r.Modality }) {
		p := Combine(g[0].Family, g)
		add := func(bar string, got float64, want string) {
			ms = append(ms, Miss{Scenario: g[0].Family, Bar: bar, Got: got, Want: want, Split: g[0].Split, Modality: g[0].Modality})
		}
		allowed := math.Ceil(p.RestHours * FamilyFAh)
		if p.EMG.Scored && p.EMG.True > 0 && p.EMG.F1 < FamilyEMGF1 {
			add("EMG twitch F1", p.EMG.F1, fmt.Sprintf(">= %.2f", FamilyEMGF1))
		}
		if p.EMG.Scored && float64(p.EMG.FPRest) > allowed {
			add("EMG false alarms at rest", float64(p.EMG.FPRest), fmt.Sprintf("<= %g (1 per hour of rest, %.2f h)", allowed, p.RestHours))
		}
		if p.Acc.Scored && p.Acc.True > 0 && p.Acc.F1 < FamilyAccF1 {
			add("acc twitch F1 (>= 6x noise)", p.Acc.F1, fmt.Sprintf(">= %.2f", FamilyAccF1))
		}
		if p.Acc.Scored && float64(p.Acc.FPRest) > allowed {
			add("acc false alarms at rest", float64(p.Acc.FPRest), fmt.Sprintf("<= %g (1 per hour of rest, %.2f h)", allowed, p.RestHours))
		}
	}
	for _, r := range rs {
		if r.StatusCases == 0 || r.Status.Agree {
			continue
		}
		m := Miss{Scenario: r.Scenario, Bar: "status", Want: r.Status.Expected, Split: r.Split, Modality: r.Modality,
			Detail: fmt.Sprintf("expected %s, got %s", r.Status.Expected, r.Status.Got)}
		ms = append(ms, m)
		if r.FalsePersistent > 0 {
			m.Bar = "persistent* without persisting twitching"
			ms = append(ms, m)
		}
	}
	return ms
}

// HeldOutMisses returns the misses found on held-out families.
func HeldOutMisses(ms []Miss) []Miss {
	var out []Miss
	for _, m := range ms {
		if m.Split == string(simulate.SplitHeldOut) || m.Split == string(simulate.SplitTest) {
			out = append(out, m)
		}
	}
	return out
}

// groupReports groups rs by key, in order of first appearance.
func groupReports(rs []Report, key func(Report) string) [][]Report {
	idx := map[string]int{}
	var out [][]Report
	for _, r := range rs {
		k := key(r)
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	return out
}

// filter returns the reports for which keep is true.
func filter(rs []Report, keep func(Report) bool) []Report {
	var out []Report
	for _, r := range rs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// FamilyRow pools one family's reports per modality.
type FamilyRow struct {
	Family string `json:"family"`
	Split  string `json:"split"`
	Cases  int    `json:"cases"`
	// Hours of recordings (each case once) and of rest.
	Hours     float64 `json:"hours"`
	RestHours float64 `json:"rest_hours"`
	// Modality maps simulate.ModBoth, ModEMG, ModAcc to the pooled report.
	Modality map[string]Report `json:"modality"`
}

// SplitRow pools every family of a split per modality.
type SplitRow = FamilyRow

// Confusion is a status confusion matrix: Counts[i][j] recordings were
// expected Statuses[i] and got Got[j].
type Confusion struct {
	Split    string   `json:"split"`    // tune, held-out or all
	Modality string   `json:"modality"` // both, emg, acc or all
	Expected []string `json:"expected"`
	Got      []string `json:"got"`
	Counts   [][]int  `json:"counts"`
}

// FamilySummary is what a families run reports besides the raw reports.
type FamilySummary struct {
	Families  []FamilyRow `json:"families"`
	Splits    []SplitRow  `json:"splits"` // tune, then held-out
	Confusion []Confusion `json:"confusion"`
}

func poolRow(name, split string, rs []Report) FamilyRow {
	row := FamilyRow{Family: name, Split: split, Modality: map[string]Report{}}
	for _, g := range groupReports(rs, func(r Report) string { return r.Modality }) {
		row.Modality[g[0].Modality] = Combine(name, g)
	}
	for _, r := range rs {
		if r.Modality == simulate.ModBoth || len(row.Modality) == 1 {
			row.Cases++
			row.Hours += r.Seconds / 3600
			row.RestHours += r.RestHours
		}
	}
	return row
}

// statusOrder lists the statuses a confusion matrix shows, with the
// "not assessed" column last.
func statusOrder() []string {
	out := make([]string, 0, len(pipeline.Statuses)+1)
	for _, s := range pipeline.Statuses {
		out = append(out, string(s))
	}
	return append(out, NotAssessed)
}

func confusion(split, mod string, rs []Report) Confusion {
	names := statusOrder()
	at := map[string]int{}
	for i, n := range names {
		at[n] = i
	}
	c := Confusion{Split: split, Modality: mod, Expected: names[:len(names)-1], Got: names, Counts: make([][]int, len(names)-1)}
	for i := range c.Counts {
		c.Counts[i] = make([]int, len(names))
	}
	for _, r := range rs {
		i, ok1 := at[r.Status.Expected]
		j, ok2 := at[r.Status.Got]
		if r.StatusCases == 0 || !ok1 || !ok2 || i >= len(c.Counts) {
			continue
		}
		c.Counts[i][j]++
	}
	return c
}

// Summarize pools a families run per family, per split and per modality,
// and builds the status confusion matrices (per modality and over all
// three, for all families, and over all modalities per split).
func Summarize(rs []Report) FamilySummary {
	var s FamilySummary
	for _, g := range groupReports(rs, func(r Report) string { return r.Family }) {
		s.Families = append(s.Families, poolRow(g[0].Family, g[0].Split, g))
	}
	splits := presentSplits(rs)
	for _, split := range splits {
		s.Splits = append(s.Splits, poolRow(split, split, filter(rs, func(r Report) bool { return r.Split == split })))
	}
	for _, m := range simulate.Modalities {
		s.Confusion = append(s.Confusion, confusion("all", m, filter(rs, func(r Report) bool { return r.Modality == m })))
	}
	for _, split := range splits {
		s.Confusion = append(s.Confusion, confusion(split, "all", filter(rs, func(r Report) bool { return r.Split == split })))
	}
	s.Confusion = append(s.Confusion, confusion("all", "all", rs))
	return s
}

// presentSplits returns the splits of rs in the order tune, held-out,
// test, leaving out those with no report.
func presentSplits(rs []Report) []string {
	var out []string
	for _, sp := range []simulate.Split{simulate.SplitTune, simulate.SplitHeldOut, simulate.SplitTest} {
		for _, r := range rs {
			if r.Split == string(sp) {
				out = append(out, string(sp))
				break
			}
		}
	}
	return out
}
