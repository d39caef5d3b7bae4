package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/twitchd/twitchd/internal/simulate"
)

// prfCell formats precision/recall/F1, or "-" when not scored.
func prfCell(d Detection) string {
	if !d.Scored {
		return "-"
	}
	return fmt.Sprintf("%.2f/%.2f/%.2f", d.Precision, d.Recall, d.F1)
}

func faCell(d Detection) string {
	if !d.Scored {
		return "-"
	}
	return fmt.Sprintf("%.1f", d.FAPerHourRest)
}

func statusCell(r Report) string {
	return fmt.Sprintf("%d/%d", r.StatusAgreed, r.StatusCases)
}

func boutCell(r Report) string {
	b := r.Bouts
	return fmt.Sprintf("%d/%d s%d +%d", b.Found, b.True, b.Split, b.Invented)
}

// statusAbbrev shortens status names for the confusion matrices.
var statusAbbrev = map[string]string{
	simulate.StatusNone: "none", simulate.StatusCeased: "ceased", simulate.StatusPostExercise: "post_ex",
	simulate.StatusAtRest: "at_rest", simulate.StatusPersistent: "persist", simulate.StatusPersistentWithSymptoms: "pers+sym",
	NotAssessed: "n/a",
}

// WriteFamilyTable writes a families run for people: per family, the
// twitch scores of each replay, then bouts, cramps and statuses; the tune
// and held-out families pooled side by side; the status confusion
// matrices; and the missed bars, held-out ones first.
func WriteFamilyTable(w io.Writer, rs []Report, misses []Miss) error {
	s := Summarize(rs)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "family\tsplit\tcases\th\tEMG both P/R/F1\tFA/h\tEMG only P/R/F1\tFA/h\tacc both P/R/F1\tFA/h\tacc only P/R/F1\tFA/h\t")
	for _, f := range s.Families {
		b, e, a := f.Modality[simulate.ModBoth], f.Modality[simulate.ModEMG], f.Modality[simulate.ModAcc]
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", f.Family, f.Split, f.Cases, f.Hours,
			prfCell(b.EMG), faCell(b.EMG), prfCell(e.EMG), faCell(e.EMG), prfCell(b.Acc), faCell(b.Acc), prfCell(a.Acc), faCell(a.Acc))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "family\tsplit\tcramps both\temg\tbouts both\temg\tacc\tstatus both\temg\tacc\tpersistent* wrongly\t")
	for _, f := range s.Families {
		b, e, a := f.Modality[simulate.ModBoth], f.Modality[simulate.ModEMG], f.Modality[simulate.ModAcc]
		fmt.Fprintf(tw, "%s\t%s\t%d/%d/%d\t%d/%d/%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", f.Family, f.Split,
			b.Cramps.Found, b.Cramps.True, b.Cramps.False, e.Cramps.Found, e.Cramps.True, e.Cramps.False,
			boutCell(b), boutCell(e), boutCell(a), statusCell(b), statusCell(e), statusCell(a),
			b.FalsePersistent+e.FalsePersistent+a.FalsePersistent)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := writeSplits(w, s.Splits); err != nil {
		return err
	}
	for _, c := range s.Confusion {
		fmt.Fprintln(w)
		if err := writeConfusion(w, c); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "P/R/F1: precision, recall, F1 of twitches (one-to-one, ±50 ms EMG, ±150 ms acc; acc truths are jerks >= 6x the per-axis noise, smaller ones neither count nor err);")
	fmt.Fprintln(w, "FA/h: false twitches per hour of rest; cramps found/true/invented; bouts found (>= 50% covered by one)/true, s: split into several, +: invented;")
	fmt.Fprintln(w, "status: recordings that reached the oracle's expected status / judged (ambiguous expectations are not judged); each case is replayed with both sensors, EMG only and acc only.")
	held := HeldOutMisses(misses)
	fmt.Fprintf(w, "%d bars missed, %d of them on held-out or test families:\n", len(misses), len(held))
	for _, m := range held {
		fmt.Fprintf(w, "  %-8s %s\n", m.Split, m)
	}
	for _, m := range misses {
		if m.Split == string(simulate.SplitTune) {
			fmt.Fprintf(w, "  tune     %s\n", m)
		}
	}
	return nil
}

// writeSplits writes the tune and held-out pools side by side.
func writeSplits(w io.Writer, splits []SplitRow) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "pooled"
	for _, s := range splits {
		head += "\t" + s.Split
	}
	fmt.Fprintln(tw, head+"\t")
	line := func(name string, cell func(SplitRow) string) {
		l := name
		for _, s := range splits {
			l += "\t" + cell(s)
		}
		fmt.Fprintln(tw, l+"\t")
	}
	mod := func(s SplitRow, m string) Report { return s.Modality[m] }
	line("recordings (hours, rest hours)", func(s SplitRow) string { return fmt.Sprintf("%d (%.1f h, %.1f h)", s.Cases, s.Hours, s.RestHours) })
	for _, c := range []struct {
		name string
		m    string
		acc  bool
	}{{"EMG twitches, both sensors", simulate.ModBoth, false}, {"EMG twitches, EMG only", simulate.ModEMG, false},
		{"acc twitches >= 6x noise, both sensors", simulate.ModBoth, true}, {"acc twitches >= 6x noise, acc only", simulate.ModAcc, true}} {
		det := func(s SplitRow) Detection {
			if c.acc {
				return mod(s, c.m).Acc
			}
			return mod(s, c.m).EMG
		}
		line(c.name+": P/R/F1", func(s SplitRow) string { return prfCell(det(s)) })
		line("  false alarms per hour of rest", func(s SplitRow) string {
			d := det(s)
			return fmt.Sprintf("%s (%d)", faCell(d), d.FPRest)
		})
	}
	line("cramps found/true/invented (both; EMG only)", func(s SplitRow) string {
		b, e := mod(s, simulate.ModBoth).Cramps, mod(s, simulate.ModEMG).Cramps
		return fmt.Sprintf("%d/%d/%d; %d/%d/%d", b.Found, b.True, b.False, e.Found, e.True, e.False)
	})
	line("bouts found/true split invented (both; EMG; acc)", func(s SplitRow) string {
		return strings.Join([]string{boutCell(mod(s, simulate.ModBoth)), boutCell(mod(s, simulate.ModEMG)), boutCell(mod(s, simulate.ModAcc))}, "; ")
	})
	line("  detected bouts per true bout (both; EMG; acc)", func(s SplitRow) string {
		var parts []string
		for _, m := range simulate.Modalities {
			b := mod(s, m).Bouts
			parts = append(parts, fmt.Sprintf("%.2f", float64(b.Pieces)/float64(max(1, b.True))))
		}
		return strings.Join(parts, "; ")
	})
	line("status as expected (both; EMG; acc)", func(s SplitRow) string {
		return strings.Join([]string{statusCell(mod(s, simulate.ModBoth)), statusCell(mod(s, simulate.ModEMG)), statusCell(mod(s, simulate.ModAcc))}, "; ")
	})
	line("persistent* where none/ceased expected", func(s SplitRow) string {
		n := 0
		for _, m := range simulate.Modalities {
			n += mod(s, m).FalsePersistent
		}
		return fmt.Sprint(n)
	})
	return tw.Flush()
}

func writeConfusion(w io.Writer, c Confusion) error {
	fmt.Fprintf(w, "status confusion, %s families, %s replays (rows expected, columns got):\n", c.Split, map[string]string{
		"all": "all", simulate.ModBoth: "both-sensor", simulate.ModEMG: "EMG-only", simulate.ModAcc: "acc-only"}[c.Modality])
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', tabwriter.AlignRight)
	head := "\t"
	for _, g := range c.Got {
		head += statusAbbrev[g] + "\t"
	}
	fmt.Fprintln(tw, head)
	for i, e := range c.Expected {
		total := 0
		for _, n := range c.Counts[i] {
			total += n
		}
		if total == 0 {
			continue
		}
		row := statusAbbrev[e] + "\t"
		for _, n := range c.Counts[i] {
			if n == 0 {
				row += ".\t"
			} else {
				row += fmt.Sprintf("%d\t", n)
			}
		}
		fmt.Fprintln(tw, row)
	}
	return tw.Flush()
}

// FamilyJSON is what -json prints for a families run.
type FamilyJSON struct {
	Reports []Report      `json:"reports"`
	Summary FamilySummary `json:"summary"`
	Misses  []Miss        `json:"misses"`
	// HeldOutMisses counts the misses on held-out families (the gate).
	HeldOutMisses int `json:"held_out_misses"`
}

// WriteFamilyJSON writes a families run as JSON.
func WriteFamilyJSON(w io.Writer, rs []Report, misses []Miss) error {
	res := FamilyJSON{Reports: rs, Summary: Summarize(rs), Misses: misses, HeldOutMisses: len(HeldOutMisses(misses))}
	if res.Misses == nil {
		res.Misses = []Miss{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
