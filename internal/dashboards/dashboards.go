// Package dashboards defines twitchd's dashboard panels once, in Go, and
// renders them as an InfluxDB 2.x template (Template), a Grafana dashboard
// with its provisioning files (Grafana, Provisioning), and the panel list
// that `twitchd serve` draws itself (internal/dashboards/web).
//
// Every panel is one or two Flux queries against the schema that
// internal/sink/influx writes. The queries refer to the variables the
// InfluxDB UI passes in its `v` record: v.timeRangeStart,
// v.timeRangeStop, v.windowPeriod and the dashboard variables v.subject
// and v.site. InfluxDB 1.8 has no UI and ignores a `v` record sent with a
// query, so whoever runs a query there (twitchd serve, the tests) declares
// it in the query text with WithVars. Only functions that Flux 0.65 (the
// one in InfluxDB 1.8.10) has are used.
//
// Queries group and filter by subject, site, sensor, phase, status and
// intensity, never by session, which is a field (a tag in the schema
// before issue 12). The activity panels read raw per-epoch points for
// ranges up to LongRange and the hourly downsampling that `twitchd
// influx setup` arranges for longer ones (ActivityBuckets).
package dashboards

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kind says how a panel draws its rows.
type Kind int

// Panel kinds.
const (
	// KindNote is text only (Markdown in InfluxDB, a text panel in Grafana).
	KindNote Kind = iota
	// KindTable lists rows with Panel.Columns.
	KindTable
	// KindStat shows one number: the _value of the first row.
	KindStat
	// KindLines draws _value over _time, one line per value of Panel.Series.
	KindLines
	// KindSteps is KindLines drawn as steps (a level held until it changes).
	KindSteps
	// KindBars draws _value per day as bars stacked by Panel.Series.
	KindBars
	// KindHeatmap counts rows by day (_time) and hour of day (_value).
	KindHeatmap
	// KindHistogram counts rows by _value in Panel.Bins bins.
	KindHistogram
)

// Format says how a table column is shown.
type Format int

// Column formats.
const (
	FormatText    Format = iota
	FormatTime           // RFC 3339, shown as date and time (UTC)
	FormatInt            // whole number
	FormatFloat          // two decimals
	FormatPercent        // a number from 0 to 100, shown with a % sign
)

// Column is one column of a table panel.
type Column struct {
	Name   string // column in the query's result
	Title  string // header shown
	Format Format
}

// Panel is one chart, table, number or text of the dashboard.
type Panel struct {
	// ID names the panel in URLs and tests, unique, lower case with dashes.
	ID    string
	Title string
	// Help says in one or two sentences what is measured and how.
	Help string
	Kind Kind
	// Flux is the panel's query (empty for KindNote).
	Flux string
	// Markers, when set, is a second query whose rows (_time, symptom,
	// text) mark moments on a time chart: symptom notes.
	Markers string
	// Series is the column whose values name the lines, bars or
	// histograms; empty for a single series.
	Series string
	// XLabel and YLabel label the axes; Unit is appended to numbers.
	XLabel, YLabel, Unit string
	// Levels, for KindSteps, names the y values 0, 1, 2, ... (statuses).
	Levels []string
	// Columns are a table's columns, in order.
	Columns []Column
	// Text is a note's Markdown.
	Text string
	// Bins is a histogram's number of bins.
	Bins int
	// W and H are the size in a 12-column grid (InfluxDB's units).
	W, H int
}

// Variable is a dashboard variable whose values come from a Flux query
// (one value per row, in the _value column).
type Variable struct {
	Name  string // as in v.NAME
	Label string
	Flux  string
}

// Dashboard is the whole set of panels and variables for one bucket.
type Dashboard struct {
	Title       string
	Description string
	Bucket      string
	Variables   []Variable
	Panels      []Panel
}

// Panel returns the panel with the given ID, or nil.
func (d *Dashboard) Panel(id string) *Panel {
	for i := range d.Panels {
		if d.Panels[i].ID == id {
			return &d.Panels[i]
		}
	}
	return nil
}

// Vars are the values of the `v` record a query is run with.
type Vars struct {
	Start, Stop time.Time
	// Window is v.windowPeriod: the time a point of a long chart stands for.
	Window  time.Duration
	Subject string
	Site    string
}

// Record returns the Flux statement that declares v with these values.
func (v Vars) Record() string {
	return fmt.Sprintf("v = {timeRangeStart: %s, timeRangeStop: %s, windowPeriod: %s, subject: %s, site: %s}\n",
		v.Start.UTC().Format(time.RFC3339Nano), v.Stop.UTC().Format(time.RFC3339Nano),
		FluxDuration(v.Window), FluxString(v.Subject), FluxString(v.Site))
}

// WithVars returns flux with the `v` record declared after its imports
// (Flux wants imports first), as a UI would pass it, and with v.subject
// and v.site replaced by their values as string literals, as Grafana's
// interpolation does: Flux 0.65 (InfluxDB 1.8) pushes a filter down into
// the storage engine only when it compares a tag with a literal, so
// `r.subject == v.subject` would read every subject's series and filter
// them in the query engine, which made a dashboard query scale with
// everyone's history instead of the person's own (make history-bench).
func WithVars(flux string, v Vars) string {
	flux = grafanaVar.ReplaceAllStringFunc(flux, func(m string) string {
		if m == "v.subject" {
			return FluxString(v.Subject)
		}
		return FluxString(v.Site)
	})
	lines := strings.SplitAfter(flux, "\n")
	i := 0
	for i < len(lines) {
		l := strings.TrimSpace(lines[i])
		if l != "" && !strings.HasPrefix(l, "import ") && !strings.HasPrefix(l, "//") {
			break
		}
		i++
	}
	return strings.Join(lines[:i], "") + v.Record() + strings.Join(lines[i:], "")
}

// FluxString quotes s as a Flux string literal.
func FluxString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "${", `\${`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// FluxDuration formats d as a Flux duration literal (at least 1s).
func FluxDuration(d time.Duration) string {
	if d < time.Second {
		d = time.Second
	}
	if d%time.Second != 0 {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// varRef matches a reference to a dashboard variable in Flux.
var varRef = regexp.MustCompile(`\bv\.([A-Za-z_][A-Za-z0-9_]*)\b`)

// UsedVars returns the names of the v.NAME references in flux, in order
// of first use.
func UsedVars(flux string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range varRef.FindAllStringSubmatch(flux, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// BuiltinVars are the v.NAME the InfluxDB UI and Grafana define themselves.
var BuiltinVars = []string{"timeRangeStart", "timeRangeStop", "windowPeriod"}
