package hybrid

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twitchd/twitchd/internal/eval"
	"github.com/twitchd/twitchd/internal/realdata"
	"github.com/twitchd/twitchd/pipeline"
)

// Count is how many truths of a class were injected and found, at rest
// and in activity.
type Count struct {
	Rest        int `json:"rest"`
	RestFound   int `json:"rest_found"`
	Active      int `json:"active"`
	ActiveFound int `json:"active_found"`
}

// Recall is RestFound over Rest (NaN without truths at rest).
func (c Count) Recall() float64 { return ratio(c.RestFound, c.Rest) }

// ActiveRecall is ActiveFound over Active (NaN without truths there).
func (c Count) ActiveRecall() float64 { return ratio(c.ActiveFound, c.Active) }

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// Sensor scores the twitch events of one sensor ("emg" or "acc").
type Sensor struct {
	// Detected counts twitch events, TP those matched to a truth.
	Detected int `json:"detected"`
	TP       int `json:"tp"`
	// FPRest counts unmatched events starting in a rest stretch, FPActive
	// the others.
	FPRest   int `json:"fp_rest"`
	FPActive int `json:"fp_active"`
	// RestSeconds sums the rest of the recordings (over their draws)
	// that have a usable channel of this sensor: what FPRest is over.
	RestSeconds float64 `json:"rest_seconds"`
	// Noise is the measured noise (mV RMS for EMG, g per axis), the
	// median over the recording's usable channels; 0 pooled.
	Noise float64 `json:"noise,omitempty"`
}

// FAPerHour is the false alarms at rest per hour of rest (NaN without
// rest).
func (s Sensor) FAPerHour() float64 {
	if s.RestSeconds == 0 {
		return math.NaN()
	}
	return float64(s.FPRest) / (s.RestSeconds / 3600)
}

// Precision is TP over Detected (NaN without detections).
func (s Sensor) Precision() float64 { return ratio(s.TP, s.Detected) }

// Result is the score of one recording over its draws, or of several
// pooled.
type Result struct {
	Path    string `json:"file"`
	Sensors string `json:"sensors"`
	Draws   int    `json:"draws"`
	// Seconds and RestSeconds sum the recording's length and rest over
	// the draws.
	Seconds     float64 `json:"seconds"`
	RestSeconds float64 `json:"rest_seconds"`
	// Classes is indexed by Class.
	Classes [numClasses]Count `json:"classes"`
	EMG     Sensor            `json:"emg"`
	Acc     Sensor            `json:"acc"`
	// Errors lists every missed truth and every false alarm, with its
	// time from the start, draw and what it was (not pooled).
	Errors []string `json:"errors,omitempty"`
	// Err is why the recording could not be scored (then nothing else
	// is set); Pool counts such recordings in Failed.
	Err    string `json:"error,omitempty"`
	Failed int    `json:"failed,omitempty"`
}

func newResult(rec realdata.Recording, nz Noise) Result {
	r := Result{Path: rec.Path, Sensors: rec.Sensors.String()}
	var emg, acc []float64
	for _, c := range nz.Channels {
		if !usable(c) {
			continue
		}
		switch c.Kind {
		case pipeline.KindEMG:
			emg = append(emg, c.Sigma)
		case pipeline.KindAcc:
			acc = append(acc, c.Sigma)
		}
	}
	r.EMG.Noise, r.Acc.Noise = median(emg), median(acc)
	return r
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}

// add scores one draw's events against its plan.
func (r *Result) add(rec realdata.Recording, nz Noise, plan *Plan, evs []pipeline.Event) {
	r.Draws++
	rest := restIn(rec, nz.Duration).Seconds()
	r.Seconds += nz.Duration.Seconds()
	r.RestSeconds += rest
	if r.EMG.Noise > 0 {
		r.EMG.RestSeconds += rest
	}
	if r.Acc.Noise > 0 {
		r.Acc.RestSeconds += rest
	}
	opt := eval.DefaultOptions()
	var det [2][]eval.Interval
	for _, ev := range evs {
		if tw, ok := ev.(*pipeline.Twitch); ok {
			k := 0
			if tw.Sensor == pipeline.SensorAcc {
				k = 1
			}
			det[k] = append(det[k], eval.Interval{Start: int64(tw.Start), End: int64(tw.End)})
		}
	}
	var truth [2][]eval.Interval
	var idx [2][]int
	for i, t := range plan.Truths {
		k := 0
		if t.Class == AccStrong || t.Class == AccWeak {
			k = 1
		}
		truth[k] = append(truth[k], eval.Interval{Start: t.Start, End: t.End})
		idx[k] = append(idx[k], i)
		c := &r.Classes[t.Class]
		if t.Active {
			c.Active++
		} else {
			c.Rest++
		}
	}
	for k, s := range []*Sensor{&r.EMG, &r.Acc} {
		tol := opt.Tolerance
		if k == 1 {
			tol = opt.AccTolerance
		}
		pairs, unmatched := eval.Match(truth[k], det[k], tol)
		s.Detected += len(det[k])
		s.TP += len(pairs)
		found := make([]bool, len(truth[k]))
		for _, p := range pairs {
			found[p[0]] = true
			t := plan.Truths[idx[k][p[0]]]
			if t.Active {
				r.Classes[t.Class].ActiveFound++
			} else {
				r.Classes[t.Class].RestFound++
			}
		}
		for i, ok := range found {
			if t := plan.Truths[idx[k][i]]; !ok {
				r.Errors = append(r.Errors, fmt.Sprintf("draw %d: missed %s at +%.3fs (%s, SNR %.1f): %s",
					r.Draws-1, t.Class, float64(t.Start-nz.Start)/1e9, where(t.Active), t.SNR, t.Detail))
			}
		}
		for _, j := range unmatched {
			at := time.Duration(det[k][j].Start - nz.Start)
			active := rec.ActiveAt(at)
			if active {
				s.FPActive++
			} else {
				s.FPRest++
			}
			r.Errors = append(r.Errors, fmt.Sprintf("draw %d: false %s twitch at +%.3fs (%s, %.0f ms)",
				r.Draws-1, []string{"emg", "acc"}[k], at.Seconds(), where(active), float64(det[k][j].End-det[k][j].Start)/1e6))
		}
	}
}

func where(active bool) string {
	if active {
		return "in activity"
	}
	return "at rest"
}

// Pool adds results into one named "pooled".
func Pool(rs []Result) Result {
	out := Result{Path: "pooled", Sensors: "-"}
	for _, r := range rs {
		if r.Err != "" {
			out.Failed++
			continue
		}
		out.Draws += r.Draws
		out.Seconds += r.Seconds
		out.RestSeconds += r.RestSeconds
		for c := range out.Classes {
			a, b := &out.Classes[c], r.Classes[c]
			a.Rest += b.Rest
			a.RestFound += b.RestFound
			a.Active += b.Active
			a.ActiveFound += b.ActiveFound
		}
		for k, s := range []*Sensor{&out.EMG, &out.Acc} {
			o := []Sensor{r.EMG, r.Acc}[k]
			s.Detected += o.Detected
			s.TP += o.TP
			s.FPRest += o.FPRest
			s.FPActive += o.FPActive
			s.RestSeconds += o.RestSeconds
		}
	}
	return out
}

// The bars the pooled hybrid numbers must clear (Bars).
const (
	// BarEMGRecall is the least recall of clear EMG twitches at rest.
	BarEMGRecall = 0.95
	// BarAccRecall is the least recall of >= 6x jerks at rest.
	BarAccRecall = 0.90
	// BarFAPerHour is the most false alarms per hour of rest, for each
	// sensor, counted as at most ceil(hours of rest) false alarms (so less
	// than an hour of rest may have one), as eval.Bars counts them.
	BarFAPerHour = 1.0
)

// Bars checks a (pooled) result against the bars: clear EMG twitches at
// rest found with recall >= BarEMGRecall, >= 6x jerks with recall >=
// BarAccRecall, and no more than BarFAPerHour false alarms per hour of
// rest for either sensor, each only where there was something to score.
func Bars(r Result) []eval.Miss {
	var ms []eval.Miss
	add := func(bar string, got float64, want string) {
		ms = append(ms, eval.Miss{Scenario: r.Path, Bar: bar, Got: got, Want: want})
	}
	if r.Failed > 0 {
		add("hybrid recordings that failed", float64(r.Failed), "0")
	}
	if c := r.Classes[EMGClear]; c.Rest > 0 && c.Recall() < BarEMGRecall {
		add("hybrid EMG recall (clear, at rest)", c.Recall(), fmt.Sprintf(">= %g", BarEMGRecall))
	}
	if c := r.Classes[AccStrong]; c.Rest > 0 && c.Recall() < BarAccRecall {
		add("hybrid acc recall (>= 6x noise, at rest)", c.Recall(), fmt.Sprintf(">= %g", BarAccRecall))
	}
	for _, s := range []struct {
		name string
		s    Sensor
	}{{"EMG", r.EMG}, {"acc", r.Acc}} {
		hours := s.s.RestSeconds / 3600
		if allowed := math.Ceil(BarFAPerHour * hours); hours > 0 && float64(s.s.FPRest) > allowed {
			add("hybrid "+s.name+" false alarms at rest", float64(s.s.FPRest),
				fmt.Sprintf("<= %g (%g per hour of rest, %.2f h)", allowed, BarFAPerHour, hours))
		}
	}
	return ms
}

// WriteTable prints the EMG and the accelerometer scores per recording
// and pooled, then the bars missed.
func WriteTable(w io.Writer, rs []Result) error {
	all := append(append([]Result(nil), rs...), Pool(rs))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "EMG\tdraws\trest min\tnoise µV\tclear at rest\tfaint at rest\tin activity\tprecision\tFA at rest\tFA/h\t")
	for _, r := range all {
		if r.Classes[EMGClear].Rest+r.Classes[EMGFaint].Rest+r.Classes[EMGClear].Active+r.Classes[EMGFaint].Active == 0 {
			continue
		}
		act := Count{Active: r.Classes[EMGClear].Active + r.Classes[EMGFaint].Active,
			ActiveFound: r.Classes[EMGClear].ActiveFound + r.Classes[EMGFaint].ActiveFound}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t\n", r.Path, draws(r), r.EMG.RestSeconds/60, noise(r.EMG.Noise, 1e3),
			frac(r.Classes[EMGClear].RestFound, r.Classes[EMGClear].Rest), frac(r.Classes[EMGFaint].RestFound, r.Classes[EMGFaint].Rest),
			frac(act.ActiveFound, act.Active), num(r.EMG.Precision()), r.EMG.FPRest, num(r.EMG.FAPerHour()))
	}
	fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t\t\t")
	fmt.Fprintln(tw, "accelerometer\tdraws\trest min\tnoise mg\t>=6x at rest\tweak at rest\tin activity\tprecision\tFA at rest\tFA/h\t")
	for _, r := range all {
		c := r.Classes
		if c[AccStrong].Rest+c[AccWeak].Rest+c[AccStrong].Active+c[AccWeak].Active == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t\n", r.Path, draws(r), r.Acc.RestSeconds/60, noise(r.Acc.Noise, 1e3),
			frac(c[AccStrong].RestFound, c[AccStrong].Rest), frac(c[AccWeak].RestFound, c[AccWeak].Rest),
			frac(c[AccStrong].ActiveFound+c[AccWeak].ActiveFound, c[AccStrong].Active+c[AccWeak].Active),
			num(r.Acc.Precision()), r.Acc.FPRest, num(r.Acc.FAPerHour()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rs {
		if r.Err != "" {
			fmt.Fprintf(w, "%s: FAILED: %s\n", r.Path, r.Err)
		}
	}
	ms := Bars(all[len(all)-1])
	if len(ms) == 0 {
		_, err := fmt.Fprintln(w, "\nevery hybrid bar cleared (pooled)")
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d hybrid bars missed (pooled):\n", len(ms))
	for _, m := range ms {
		fmt.Fprintf(&b, "  %s\n", m)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// draws formats a recording's draws; "-" for the pooled row, whose
// draws mix sensors.
func draws(r Result) string {
	if r.Path == "pooled" {
		return "-"
	}
	return fmt.Sprint(r.Draws)
}

// frac formats found/total with the recall.
func frac(found, total int) string {
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d %.2f", found, total, float64(found)/float64(total))
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func noise(v, scale float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3g", v*scale)
}

// Report writes the results as a table (with every miss and false alarm
// when verbose) or as JSON, and returns the bars the pooled results
// miss.
func Report(w io.Writer, rs []Result, asJSON, verbose bool) ([]eval.Miss, error) {
	pooled := Pool(rs)
	misses := Bars(pooled)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return misses, enc.Encode(map[string]any{"recordings": rs, "pooled": pooled, "misses": misses})
	}
	if err := WriteTable(w, rs); err != nil {
		return misses, err
	}
	if verbose {
		for _, r := range rs {
			for _, e := range r.Errors {
				fmt.Fprintf(w, "%s: %s\n", r.Path, e)
			}
		}
	}
	return misses, nil
}
