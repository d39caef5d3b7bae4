package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/twitchd/twitchd/internal/detect"
	"github.com/twitchd/twitchd/internal/simulate"
)

// TunedParam is a detector threshold that is tuned on data, with the
// values leave-one-family-out tries.
type TunedParam struct {
	Name   string // the detect.Config field
	Values []float64
	Set    func(*detect.Config, float64)
}

// TunedParams lists the data-tuned thresholds LeaveOneFamilyOut chooses
// among. Each list holds the default value. Whoever changes these
// detect.Config fields keeps this list in step.
var TunedParams = []TunedParam{
	{Name: "OnSigma", Values: []float64{5, 7, 9}, Set: func(c *detect.Config, v float64) { c.OnSigma = v }},
	{Name: "AccFalseAlarms", Values: []float64{0.01, 0.05, 0.25}, Set: func(c *detect.Config, v float64) { c.AccFalseAlarms = v }},
}

// LOFOResult is one family scored with the thresholds that did best on
// every other family.
type LOFOResult struct {
	Family string `json:"family"`
	Split  string `json:"split"`
	// Chosen holds the chosen value of each TunedParam.
	Chosen map[string]float64 `json:"chosen"`
	// Misses counts the family's missed bars with the chosen values,
	// DefaultMisses with the detectors' defaults.
	Misses        int `json:"misses"`
	DefaultMisses int `json:"default_misses"`
	// Row is the family's pooled scores with the chosen values.
	Row FamilyRow `json:"row"`
}

// grid returns every combination of the params' values.
func grid(params []TunedParam) [][]float64 {
	out := [][]float64{nil}
	for _, p := range params {
		var next [][]float64
		for _, c := range out {
			for _, v := range p.Values {
				next = append(next, append(append([]float64(nil), c...), v))
			}
		}
		out = next
	}
	return out
}

// objective ranks a configuration on a set of reports: fewer missed bars
// first, then a higher mean of the F1 scores and status agreement of
// each family and modality.
func objective(rs []Report) (misses int, score float64) {
	misses = len(FamilyBars(rs))
	n := 0
	for _, f := range Summarize(rs).Families {
		for _, r := range f.Modality {
			for _, d := range []Detection{r.EMG, r.Acc} {
				if d.Scored && d.True > 0 {
					score += d.F1
					n++
				}
			}
			if r.StatusCases > 0 {
				score += float64(r.StatusAgreed) / float64(r.StatusCases)
				n++
			}
		}
	}
	if n > 0 {
		score /= float64(n)
	}
	return misses, score
}

// LeaveOneFamilyOut runs the cases once with every combination of the
// params' values on top of base, then, for each family, picks the
// combination that does best on all the other families (objective) and
// reports the left-out family scored with it: how the thresholds would
// fare on a family nobody tuned them on. It costs one suite run per
// combination.
func LeaveOneFamilyOut(ctx context.Context, cases []Case, params []TunedParam, base detect.Config) ([]LOFOResult, error) {
	combos := grid(params)
	runs := make([][]Report, len(combos))
	def := -1
	for i, combo := range combos {
		cfg := base
		isDefault := true
		for k, p := range params {
			p.Set(&cfg, combo[k])
			probe := base
			p.Set(&probe, combo[k])
			isDefault = isDefault && probe == base
		}
		if isDefault {
			def = i
		}
		rs, err := RunSuiteWith(ctx, cases, RunOptions{Detect: &cfg})
		if err != nil {
			return nil, err
		}
		runs[i] = rs
	}
	return lofoSelect(runs, combos, params, def), nil
}

// lofoSelect picks, for each family, the run (combination) that does
// best on the other families and scores the family with it; def is the
// run with the default values (-1 if none).
func lofoSelect(runs [][]Report, combos [][]float64, params []TunedParam, def int) []LOFOResult {
	var out []LOFOResult
	for _, f := range groupReports(runs[0], func(r Report) string { return r.Family }) {
		name := f[0].Family
		mine := func(r Report) bool { return r.Family == name }
		best, bestMiss, bestScore := 0, -1, 0.0
		for i, rs := range runs {
			m, s := objective(filter(rs, func(r Report) bool { return !mine(r) }))
			if bestMiss < 0 || m < bestMiss || (m == bestMiss && s > bestScore) {
				best, bestMiss, bestScore = i, m, s
			}
		}
		res := LOFOResult{Family: name, Split: f[0].Split, Chosen: map[string]float64{}, DefaultMisses: -1}
		for k, p := range params {
			res.Chosen[p.Name] = combos[best][k]
		}
		left := filter(runs[best], mine)
		res.Misses = len(FamilyBars(left))
		res.Row = poolRow(name, f[0].Split, left)
		if def >= 0 {
			res.DefaultMisses = len(FamilyBars(filter(runs[def], mine)))
		}
		out = append(out, res)
	}
	return out
}

// WriteLOFOTable writes the leave-one-family-out results for people.
func WriteLOFOTable(w io.Writer, res []LOFOResult, params []TunedParam) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "family\tsplit\tchosen on the others\tbars missed\twith defaults\tEMG F1 both/emg\tacc F1 both/acc\tstatus both/emg/acc\t")
	for _, r := range res {
		var ch []string
		for _, p := range params {
			ch = append(ch, fmt.Sprintf("%s=%g", p.Name, r.Chosen[p.Name]))
		}
		b, e, a := r.Row.Modality[simulate.ModBoth], r.Row.Modality[simulate.ModEMG], r.Row.Modality[simulate.ModAcc]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.2f/%.2f\t%.2f/%.2f\t%s %s %s\t\n", r.Family, r.Split, strings.Join(ch, " "), r.Misses, r.DefaultMisses,
			b.EMG.F1, e.EMG.F1, b.Acc.F1, a.Acc.F1, statusCell(b), statusCell(e), statusCell(a))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = fmt.Sprintf("%s %v", p.Name, p.Values)
	}
	sort.Strings(names)
	_, err := fmt.Fprintf(w, "leave-one-family-out over %s: each family is scored with the values that missed the fewest bars on all the other families.\n", strings.Join(names, ", "))
	return err
}

// WriteLOFOJSON writes the leave-one-family-out results as indented JSON.
func WriteLOFOJSON(w io.Writer, res []LOFOResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
