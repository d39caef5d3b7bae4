package dashboards

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/dashboards/dashtest"
	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/schema"
	"github.com/twitchd/twitchd/pipeline"
)

func TestMain(m *testing.M) { influxtest.Main(m) }

// exported are the queries as the two exports hold them.
type exported struct {
	// charts maps a chart's name to its queries (InfluxDB template).
	charts map[string][]string
	// vars maps a variable's name to its query (InfluxDB template).
	vars map[string]string
	// grafana maps a panel's title to its queries, and gvars a
	// variable's name to its query (Grafana dashboard).
	grafana map[string][]string
	gvars   map[string]string
	// annotations are Grafana's annotation queries.
	annotations []string
}

// readExports renders d both ways and reads the queries back out of the
// JSON, so that the tests run what a user imports.
func readExports(t *testing.T, d *Dashboard) *exported {
	t.Helper()
	e := &exported{charts: map[string][]string{}, vars: map[string]string{}, grafana: map[string][]string{}, gvars: map[string]string{}}
	b, err := Template(d)
	if err != nil {
		t.Fatal(err)
	}
	var objs []struct {
		Kind string `json:"kind"`
		Spec struct {
			Name   string `json:"name"`
			Query  string `json:"query"`
			Charts []struct {
				Name    string `json:"name"`
				Queries []struct {
					Query string `json:"query"`
				} `json:"queries"`
			} `json:"charts"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(b, &objs); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o.Kind {
		case "Variable":
			e.vars[o.Spec.Name] = o.Spec.Query
		case "Dashboard":
			for _, c := range o.Spec.Charts {
				for _, q := range c.Queries {
					e.charts[c.Name] = append(e.charts[c.Name], q.Query)
				}
			}
		}
	}
	g, err := GrafanaDashboard(d)
	if err != nil {
		t.Fatal(err)
	}
	var gd struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Query string `json:"query"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query string `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Annotations struct {
			List []struct {
				Target struct {
					Query string `json:"query"`
				} `json:"target"`
			} `json:"list"`
		} `json:"annotations"`
	}
	if err := json.Unmarshal(g, &gd); err != nil {
		t.Fatal(err)
	}
	for _, p := range gd.Panels {
		for _, q := range p.Targets {
			e.grafana[p.Title] = append(e.grafana[p.Title], q.Query)
		}
	}
	for _, v := range gd.Templating.List {
		e.gvars[v.Name] = v.Query
	}
	for _, a := range gd.Annotations.List {
		if a.Target.Query != "" {
			e.annotations = append(e.annotations, a.Target.Query)
		}
	}
	return e
}

// grafanaInterpolate substitutes dashboard variables as Grafana does:
// the raw value in place of ${NAME}.
func grafanaInterpolate(q string, v Vars) string {
	return strings.NewReplacer("${subject}", v.Subject, "${site}", v.Site).Replace(q)
}

// TestQueriesOnInfluxDB replays simulated sessions into influxd 1.8.10,
// runs every chart's and variable's Flux exactly as the InfluxDB template
// and the Grafana dashboard hold it (with the `v` record a UI would pass
// declared in front), and compares what each panel shows with the events
// files.
func TestQueriesOnInfluxDB(t *testing.T) {
	srv := influxtest.Shared(t)
	data := dashtest.Load(t, srv)
	d := NewWith(srv.Bucket, DefaultActivityBuckets(srv.Bucket, dashtest.ActivityBucket))
	ex := readExports(t, d)
	run := func(q string, v Vars) []map[string]any {
		t.Helper()
		return srv.Query(t, WithVars(q, v))
	}
	for _, c := range []struct{ subject, site string }{{dashtest.Ann, dashtest.Calf}, {dashtest.Ann, dashtest.Forearm}, {dashtest.Bob, dashtest.Calf}} {
		v := Vars{Start: data.Start, Stop: data.Stop, Window: time.Minute, Subject: c.subject, Site: c.site}
		want := expect(data.Events, c.subject, c.site)
		full := c.subject == dashtest.Ann && c.site == dashtest.Calf
		t.Run(c.subject+"/"+c.site, func(t *testing.T) {
			for _, p := range d.Panels {
				qs := ex.charts[p.Title]
				if p.Flux == "" {
					if len(qs) != 0 {
						t.Errorf("%s: a note with queries %v", p.ID, qs)
					}
					continue
				}
				if len(qs) == 0 {
					t.Fatalf("%s: no query in the template", p.ID)
				}
				check := panelChecks[p.ID]
				if check == nil {
					t.Fatalf("%s: no check for this panel", p.ID)
				}
				rows := run(qs[0], v)
				if full && len(rows) == 0 {
					t.Errorf("%s: no rows; Ann's calf has data for every panel", p.ID)
				}
				check(t, want, rows)
				// Grafana runs the same Flux with the variables as text.
				gq := ex.grafana[p.Title]
				if len(gq) != 1 {
					t.Fatalf("%s: Grafana has %d queries, want 1", p.ID, len(gq))
				}
				if g := run(grafanaInterpolate(gq[0], v), v); !reflect.DeepEqual(normalise(g), normalise(rows)) {
					t.Errorf("%s: Grafana's query gives\n%v\nthe template's\n%v", p.ID, g, rows)
				}
				if p.Markers != "" {
					checkMarkers(t, want, run(qs[1], v), ex, v, run)
				}
			}
		})
	}
	checkVariables(t, ex, data, run)
}

// normalise drops the result and table columns, which depend on how a
// client splits the result, and sorts the rows.
func normalise(rows []map[string]any) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		keys := make([]string, 0, len(r))
		for k := range r {
			if k != "result" && k != "table" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%v ", k, r[k])
		}
		out[i] = b.String()
	}
	sort.Strings(out)
	return out
}

func checkMarkers(t *testing.T, want *expected, rows []map[string]any, ex *exported, v Vars, run func(string, Vars) []map[string]any) {
	t.Helper()
	sort.SliceStable(rows, func(i, j int) bool { return tm(rows[i]).Before(tm(rows[j])) })
	if len(rows) != len(want.symptoms) {
		t.Fatalf("symptom series: %d rows, want %d notes: %v", len(rows), len(want.symptoms), rows)
	}
	for i, s := range want.symptoms {
		if rows[i]["note"] != "symptom: "+s.Symptom || !rows[i]["_time"].(time.Time).Equal(s.Time.Time()) {
			t.Errorf("symptom series row %d: %v, want %s at %v", i, rows[i], s.Symptom, s.Time)
		}
	}
	if len(ex.annotations) != 1 {
		t.Fatalf("Grafana has %d annotation queries, want 1", len(ex.annotations))
	}
	anno := run(grafanaInterpolate(ex.annotations[0], v), v)
	if len(anno) != len(want.symptoms) {
		t.Fatalf("annotations: %d rows, want %d: %v", len(anno), len(want.symptoms), anno)
	}
	for i, s := range want.symptoms {
		text := s.Symptom
		if s.Text != "" {
			text += ": " + s.Text
		}
		if anno[i]["text"] != text {
			t.Errorf("annotation %d: %q, want %q", i, anno[i]["text"], text)
		}
	}
}

func checkVariables(t *testing.T, ex *exported, data *dashtest.Data, run func(string, Vars) []map[string]any) {
	t.Helper()
	values := func(q string, v Vars) []string {
		var out []string
		for _, r := range run(q, v) {
			out = append(out, r["_value"].(string))
		}
		sort.Strings(out)
		return out
	}
	v := Vars{Start: data.Start, Stop: data.Stop, Window: time.Minute}
	for _, c := range []struct {
		name, subject string
		want          []string
	}{
		{"subject", "", []string{dashtest.Ann, dashtest.Bob}},
		{"site", dashtest.Ann, []string{dashtest.Calf, dashtest.Forearm}},
		{"site", dashtest.Bob, []string{dashtest.Calf}},
	} {
		v.Subject = c.subject
		if got := values(ex.vars[c.name], v); !slices.Equal(got, c.want) {
			t.Errorf("variable %s (subject %q): %v, want %v", c.name, c.subject, got, c.want)
		}
		if got := values(grafanaInterpolate(ex.gvars[c.name], v), v); !slices.Equal(got, c.want) {
			t.Errorf("Grafana variable %s (subject %q): %v, want %v", c.name, c.subject, got, c.want)
		}
	}
}

// panelChecks compare a panel's rows with what the events files say.
var panelChecks = map[string]func(t *testing.T, want *expected, rows []map[string]any){
	"status":           checkStatus,
	"status-history":   checkStatusHistory,
	"twitches-per-day": checkTwitchesPerDay,
	"twitch-rate":      checkRate,
	"twitch-heatmap":   checkHeatmap,
	"bout-minutes":     checkBoutMinutes,
	"bout-peak":        checkBoutPeak,
	"cramp-count":      checkCrampCount,
	"cramps":           checkCramps,
	"symptoms":         checkSymptoms,
	"sensors":          checkSensors,
	"amplitude-emg":    func(t *testing.T, w *expected, rows []map[string]any) { checkPeaks(t, w, rows, "emg") },
	"amplitude-acc":    func(t *testing.T, w *expected, rows []map[string]any) { checkPeaks(t, w, rows, "acc") },
	"ingest":           checkIngest,
	"activity-acc":     func(t *testing.T, w *expected, rows []map[string]any) { checkActivity(t, w, rows, "acc", time.Minute) },
	"activity-emg":     func(t *testing.T, w *expected, rows []map[string]any) { checkActivity(t, w, rows, "emg", time.Minute) },
}

// checkActivity compares an activity panel's means per window with the
// events files' epochs of the site.
func checkActivity(t *testing.T, want *expected, rows []map[string]any, sensor string, window time.Duration) {
	t.Helper()
	exp := want.activityMeans(sensor, window)
	if len(rows) != len(exp) || len(rows) == 0 {
		t.Fatalf("activity %s per %v: %d rows, want %d", sensor, window, len(rows), len(exp))
	}
	for _, r := range rows {
		m, ok := exp[tm(r).UTC()]
		if r["sensor"] != sensor || !ok || math.Abs(num(r["_value"])-m) > 1e-9*math.Max(1, math.Abs(m)) {
			t.Errorf("activity %s: %v, want mean %v for the window ending %v", sensor, r, m, tm(r))
		}
	}
}

// TestActivityLongRange runs the activity panels over a range longer than
// LongRange: they must read the hourly downsampling, not the raw epochs.
// With a window of one minute the raw epochs would give a point per
// minute; the hourly points give one per hour, at the minute after the
// hour, with the hour's mean; with a window of an hour both give the
// hour's mean.
func TestActivityLongRange(t *testing.T) {
	srv := influxtest.Shared(t)
	data := dashtest.Load(t, srv)
	d := NewWith(srv.Bucket, DefaultActivityBuckets(srv.Bucket, dashtest.ActivityBucket))
	ex := readExports(t, d)
	for _, id := range []string{"activity-acc", "activity-emg"} {
		p := d.Panel(id)
		sensor := strings.TrimPrefix(id, "activity-")
		want := expect(data.Events, dashtest.Ann, dashtest.Calf)
		for _, window := range []time.Duration{time.Minute, time.Hour} {
			v := Vars{Start: data.Start.AddDate(0, 0, -60), Stop: data.Stop, Window: window, Subject: dashtest.Ann, Site: dashtest.Calf}
			rows := srv.Query(t, WithVars(ex.charts[p.Title][0], v))
			hourly := want.activityMeans(sensor, time.Hour)
			if len(rows) != len(hourly) || len(rows) == 0 {
				t.Fatalf("%s per %v over %v: %d rows, want one per hour with epochs (%d)", id, window, v.Stop.Sub(v.Start), len(rows), len(hourly))
			}
			for _, r := range rows {
				hourEnd := tm(r).UTC().Add(-window).Add(time.Hour)
				m, ok := hourly[hourEnd]
				if !ok || math.Abs(num(r["_value"])-m) > 1e-9*math.Max(1, math.Abs(m)) {
					t.Errorf("%s per %v: %v, want the hourly mean %v", id, window, r, m)
				}
			}
		}
	}
}

func tm(r map[string]any) time.Time { t, _ := r["_time"].(time.Time); return t }

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	return math.NaN()
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func checkStatus(t *testing.T, want *expected, rows []map[string]any) {
	if len(rows) != len(want.lastStatus) || len(rows) == 0 {
		t.Fatalf("status: %d rows, want one per site (%d)", len(rows), len(want.lastStatus))
	}
	for _, r := range rows {
		a := want.lastStatus[r["site"].(string)]
		if a == nil {
			t.Fatalf("status: a row for site %v, which has no assessment", r["site"])
		}
		// Assessments are stored schema.SessionShift late (under 1 ms), and
		// the dashboards show them as stored.
		at := (a.Time + pipeline.Timestamp(schema.SessionShift(a.Session))).Time()
		if r["status"] != a.Status || r["reason"] != a.Reason || !tm(r).Equal(at) ||
			r["advice"] != strings.Join(a.Advice, "; ") || r["notice"] != a.Notice {
			t.Errorf("status of %s: %v, want the last assessment %s (%s) at %v", a.Site, r, a.Status, a.Reason, a.Time)
		}
	}
}

func checkStatusHistory(t *testing.T, want *expected, rows []map[string]any) {
	exp := want.statusWindows(time.Minute)
	if len(rows) != len(exp) || len(rows) == 0 {
		t.Fatalf("status history: %d points, want %d: %v", len(rows), len(exp), rows)
	}
	for _, r := range rows {
		if l, ok := exp[tm(r)]; !ok || r["_value"] != l || r["site"] != want.site {
			t.Errorf("status history: %v, want level %d for the window ending then", r, l)
		}
	}
	last := want.assessments[len(want.assessments)-1]
	if got := rows[len(rows)-1]["_value"]; got != int64(pipeline.Status(last.Status).Level()) {
		t.Errorf("status history ends at %v, want %s", got, last.Status)
	}
}

// byDay reads rows of (_time, _value, series column) into a map.
func byDay(t *testing.T, rows []map[string]any, series string) map[dayKey]float64 {
	t.Helper()
	out := map[dayKey]float64{}
	for _, r := range rows {
		k := dayKey{tm(r), fmt.Sprint(r[series])}
		if _, dup := out[k]; dup {
			t.Errorf("two rows for %v", k)
		}
		out[k] = num(r["_value"])
	}
	return out
}

func checkTwitchesPerDay(t *testing.T, want *expected, rows []map[string]any) {
	got := byDay(t, rows, "phase")
	if len(got) != len(want.twitchesPerDay) || len(got) == 0 {
		t.Fatalf("twitches per day: %v, want %v", got, want.twitchesPerDay)
	}
	for k, n := range want.twitchesPerDay {
		if got[k] != float64(n) {
			t.Errorf("twitches on %s %s: %v, the events files have %d", k.day.Format(time.DateOnly), k.key, got[k], n)
		}
	}
}

func checkRate(t *testing.T, want *expected, rows []map[string]any) {
	got, exp := byDay(t, rows, "rest"), want.rates()
	if len(got) != len(exp) || len(got) == 0 {
		t.Fatalf("twitch rate: %v, want %v", got, exp)
	}
	for k, r := range exp {
		if !near(got[k], r) {
			t.Errorf("rate on %s %s: %v per hour, the events files give %v", k.day.Format(time.DateOnly), k.key, got[k], r)
		}
	}
}

func checkHeatmap(t *testing.T, want *expected, rows []map[string]any) {
	got := map[dayKey]int{}
	for _, r := range rows {
		got[dayKey{tm(r).Truncate(24 * time.Hour), strconv.Itoa(int(num(r["_value"])))}]++
	}
	if !reflect.DeepEqual(got, want.heat) || len(got) == 0 {
		t.Errorf("heatmap: %v, want %v", got, want.heat)
	}
}

func checkBoutMinutes(t *testing.T, want *expected, rows []map[string]any) {
	got := byDay(t, rows, "intensity")
	if len(got) != len(want.boutMin) || len(got) == 0 {
		t.Fatalf("bout minutes: %v, want %v", got, want.boutMin)
	}
	for k, m := range want.boutMin {
		if !near(got[k], m) {
			t.Errorf("bout minutes on %s %s: %v, want %v", k.day.Format(time.DateOnly), k.key, got[k], m)
		}
	}
}

func checkBoutPeak(t *testing.T, want *expected, rows []map[string]any) {
	if len(rows) != len(want.peak) || len(rows) == 0 {
		t.Fatalf("peak intensity: %v, want %v", rows, want.peak)
	}
	for _, r := range rows {
		if r["_value"] != want.peak[tm(r)] {
			t.Errorf("peak intensity on %v: %v, want %d", tm(r), r["_value"], want.peak[tm(r)])
		}
	}
}

func checkCrampCount(t *testing.T, want *expected, rows []map[string]any) {
	n := int64(0)
	if len(rows) == 1 {
		n = rows[0]["_value"].(int64)
	} else if len(rows) > 1 {
		t.Fatalf("cramp count: %d rows: %v", len(rows), rows)
	}
	if n != int64(len(want.cramps)) {
		t.Errorf("cramp count %d, the events files have %d", n, len(want.cramps))
	}
}

func checkCramps(t *testing.T, want *expected, rows []map[string]any) {
	if len(rows) != len(want.cramps) {
		t.Fatalf("cramps table: %d rows, want %d", len(rows), len(want.cramps))
	}
	for i, c := range want.cramps {
		r := rows[i]
		if !tm(r).Equal(c.Start.Time()) || !near(num(r["duration_s"]), float64(c.End-c.Start)/1e9) || num(r["peak"]) != c.Peak {
			t.Errorf("cramp %d: %v, want %v for %v s, peak %v", i, r, c.Start, float64(c.End-c.Start)/1e9, c.Peak)
		}
	}
}

func checkSymptoms(t *testing.T, want *expected, rows []map[string]any) {
	if len(rows) != len(want.symptoms) {
		t.Fatalf("symptoms: %v, want %d notes", rows, len(want.symptoms))
	}
	for i, s := range want.symptoms {
		text, _ := rows[i]["text"].(string)
		if rows[i]["symptom"] != s.Symptom || text != s.Text || !tm(rows[i]).Equal(s.Time.Time()) {
			t.Errorf("symptom %d: %v, want %+v", i, rows[i], s)
		}
	}
}

func checkSensors(t *testing.T, want *expected, rows []map[string]any) {
	if len(rows) != len(want.sensors) {
		t.Fatalf("sensors: %d rows, want %d", len(rows), len(want.sensors))
	}
	for _, r := range rows {
		c := want.sensors[[2]string{r["site"].(string), r["sensor"].(string)}]
		if r["twitches"] != c[0] || r["confirmed"] != c[1] || !near(num(r["confirmed_pct"]), 100*float64(c[1])/float64(c[0])) {
			t.Errorf("sensors: %v, want %d twitches, %d confirmed", r, c[0], c[1])
		}
	}
}

func checkPeaks(t *testing.T, want *expected, rows []map[string]any, sensor string) {
	var got []float64
	for _, r := range rows {
		if r["sensor"] != sensor {
			t.Errorf("amplitude %s: row of sensor %v", sensor, r["sensor"])
		}
		got = append(got, num(r["_value"]))
	}
	sort.Float64s(got)
	if !slices.Equal(got, want.peaks[sensor]) {
		t.Errorf("amplitude %s: %v, the events files have %v", sensor, got, want.peaks[sensor])
	}
}

func checkIngest(t *testing.T, want *expected, rows []map[string]any) {
	if len(rows) != len(want.summaries) {
		t.Fatalf("ingest: %d rows, want %d files", len(rows), len(want.summaries))
	}
	sums := slices.Clone(want.summaries)
	sort.SliceStable(sums, func(i, j int) bool { return sums[i].Start < sums[j].Start })
	for i, s := range sums {
		r := rows[i]
		var samples int64
		for _, c := range s.Channels {
			samples += c.Samples
		}
		if r["file"] != s.File || r["samples"] != samples || r["skipped_lines"] != s.SkippedLines ||
			r["lost_samples"] != s.LostSamples || r["points_rejected"] != want.epochs[s.Session] {
			t.Errorf("ingest row %d: %v, want %s with %d samples, %d skipped, %d lost, %d rejected", i, r, s.File, samples,
				s.SkippedLines, s.LostSamples, want.epochs[s.Session])
		}
	}
}
