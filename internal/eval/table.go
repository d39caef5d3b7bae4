package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// WriteTable writes one aligned row per report, then the overall row
// (Combine of all) when there is more than one, then the missed bars.
func WriteTable(w io.Writer, rs []Report, misses []Miss) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tmin\tEMG P\tR\tF1\ttp/fp/fn\tFA/h\tacc P\tR\tF1\ttp/fp/fn\tFA/h\trest h\tcramps f/t/+\tbouts f/t\tint\tstatus expected -> got\t")
	row := func(r Report) {
		fmt.Fprintf(tw, "%s\t%.1f\t%.3f\t%.3f\t%.3f\t%d/%d/%d\t%.1f\t%.3f\t%.3f\t%.3f\t%d/%d/%d\t%.1f\t%.3f\t%d/%d/%d\t%d/%d\t%.0f%%\t%s -> %s\t\n",
			r.Scenario, r.Seconds/60,
			r.EMG.Precision, r.EMG.Recall, r.EMG.F1, r.EMG.TP, r.EMG.FP, r.EMG.FN, r.EMG.FAPerHourRest,
			r.Acc.Precision, r.Acc.Recall, r.Acc.F1, r.Acc.TP, r.Acc.FP, r.Acc.FN, r.Acc.FAPerHourRest,
			r.RestHours,
			r.Cramps.Found, r.Cramps.True, r.Cramps.False,
			r.Bouts.Found, r.Bouts.True, 100*r.Bouts.IntensityAgreement,
			r.Status.Expected, r.Status.Got)
	}
	for _, r := range rs {
		row(r)
	}
	if len(rs) > 1 {
		row(Combine("overall", rs))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "EMG/acc: precision, recall, F1 of twitch bursts (one-to-one, ±50 ms EMG, ±150 ms acc); FA/h: false alarms per hour of rest;")
	fmt.Fprintln(w, "cramps found/true/invented; bouts found (>= 50% covered)/true; int: bouts with the labelled intensity; status is reported, not a bar.")
	if len(misses) == 0 {
		_, err := fmt.Fprintln(w, "all bars cleared")
		return err
	}
	fmt.Fprintf(w, "%d bars missed:\n", len(misses))
	for _, m := range misses {
		fmt.Fprintf(w, "  %s\n", m)
	}
	return nil
}

// JSONResult is what --json prints.
type JSONResult struct {
	Reports []Report `json:"reports"`
	Overall *Report  `json:"overall,omitempty"`
	Misses  []Miss   `json:"misses"`
}

// WriteJSON writes the reports, their pooled overall and the misses.
func WriteJSON(w io.Writer, rs []Report, misses []Miss) error {
	res := JSONResult{Reports: rs, Misses: misses}
	if res.Misses == nil {
		res.Misses = []Miss{}
	}
	if len(rs) > 1 {
		o := Combine("overall", rs)
		res.Overall = &o
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// SuiteMisses checks every report and the pooled overall against Bars.
func SuiteMisses(rs []Report) []Miss {
	var ms []Miss
	for _, r := range rs {
		ms = append(ms, Bars(r)...)
	}
	if len(rs) > 1 {
		ms = append(ms, Bars(Combine("overall", rs))...)
	}
	return ms
}

// Output says how WriteReports prints.
type Output struct {
	Families bool // the families table (tune and held-out splits) instead of one row per scenario
	JSON     bool // JSON instead of a table
	Verbose  bool // every missed and false detection, and why a status disagrees
}

// WriteReports writes rs and the missed bars as out says. Without
// Verbose the reports' Errors are left out.
func WriteReports(w io.Writer, rs []Report, misses []Miss, out Output) error {
	if !out.Verbose {
		rs = slices.Clone(rs)
		for i := range rs {
			rs[i].Errors = nil
		}
	}
	switch {
	case out.JSON && out.Families:
		return WriteFamilyJSON(w, rs, misses)
	case out.JSON:
		return WriteJSON(w, rs, misses)
	case out.Families:
		if err := WriteFamilyTable(w, rs, misses); err != nil {
			return err
		}
	default:
		if err := WriteTable(w, rs, misses); err != nil {
			return err
		}
	}
	if out.Verbose {
		for _, r := range rs {
			for _, e := range r.Errors {
				fmt.Fprintf(w, "%s [%s]: %s\n", r.Scenario, r.Modality, e)
			}
			if !r.Status.Agree && r.Status.Expected != "" {
				fmt.Fprintf(w, "%s [%s]: status %s, expected %s (%s); got because: %s\n", r.Scenario, r.Modality, r.Status.Got, r.Status.Expected, r.Status.Reason, r.Status.GotReason)
			}
		}
	}
	return nil
}
