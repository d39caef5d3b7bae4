package dashboards

import (
	"fmt"
	"strings"

	"github.com/twitchd/twitchd/internal/schema"
	"github.com/twitchd/twitchd/pipeline"
)

// Notice is the not-a-medical-device notice every dashboard shows.
const Notice = "twitchd is not a medical device and does not diagnose. It measures movement " +
	"(accelerometer) and muscle electrical activity (surface EMG) and shows patterns in that data. " +
	"If twitching persists, appears in more than one place, or comes with weakness, clumsiness or " +
	"cramps, or if you are worried, consider seeking a medical opinion."

// Range scopes of a query.
type scope int

const (
	// inRange: v.timeRangeStart to v.timeRangeStop.
	inRange scope = iota
	// untilStop: everything before v.timeRangeStop (the latest state).
	untilStop
)

// query starts a Flux query on measurement m for v.subject (and v.site
// when bySite), keeping the given fields.
func query(bucket, m string, sc scope, bySite bool, fields ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "from(bucket: %s)\n", FluxString(bucket))
	if sc == untilStop {
		b.WriteString("  |> range(start: 0, stop: v.timeRangeStop)\n")
	} else {
		b.WriteString("  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n")
	}
	fmt.Fprintf(&b, "  |> filter(fn: (r) => r._measurement == %q and r.subject == v.subject", m)
	if bySite {
		b.WriteString(" and r.site == v.site")
	}
	b.WriteString(")\n")
	if len(fields) > 0 {
		conds := make([]string, len(fields))
		for i, f := range fields {
			conds[i] = fmt.Sprintf("r._field == %q", f)
		}
		fmt.Fprintf(&b, "  |> filter(fn: (r) => %s)\n", strings.Join(conds, " or "))
	}
	return b.String()
}

// pivot turns the fields of each point into columns.
const pivot = `  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")` + "\n"

// distinctTwitches keeps one row per twitch from the "confirmed" field:
// every EMG twitch, and the accelerometer twitches that EMG did not
// confirm (a confirmed one is the same twitch as its EMG twin).
const distinctTwitches = `  |> filter(fn: (r) => r.sensor == "emg" or r._value == false)` + "\n"

// perDay ends a query with one row per UTC day and series, at the day's start.
func perDay(fn string) string {
	return fmt.Sprintf("  |> aggregateWindow(every: 1d, fn: %s, timeSrc: \"_start\", createEmpty: false)\n", fn)
}

// statusLevel is a Flux expression for the level of r.status, from the
// status tag rather than the status_level field, whose numbers changed
// when at_rest was added.
func statusLevel() string {
	var b strings.Builder
	for i, s := range pipeline.Statuses {
		fmt.Fprintf(&b, "if r.status == %q then %d else ", s, i)
	}
	b.WriteString("-1")
	return b.String()
}

// statusNames lists the statuses in order of level.
func statusNames() []string {
	out := make([]string, len(pipeline.Statuses))
	for i, s := range pipeline.Statuses {
		out[i] = string(s)
	}
	return out
}

// New returns twitchd's dashboard with every query reading bucket
// ("database/retention-policy" on InfluxDB 1.8, a bucket name on 2.x),
// activity as DefaultActivityBuckets(bucket, "") says.
func New(bucket string) *Dashboard {
	return NewWith(bucket, DefaultActivityBuckets(bucket, ""))
}

// NewWith is New with the activity panels reading act.
func NewWith(bucket string, act ActivityBuckets) *Dashboard {
	return &Dashboard{
		Title:       "twitchd: twitching after exercise",
		Description: "Muscle twitching, exercise, cramps and the persistence status recorded by twitchd, per subject and body site.",
		Bucket:      bucket,
		Variables:   variables(bucket),
		Panels:      append(panels(bucket), activityPanels(act)...),
	}
}

func variables(bucket string) []Variable {
	return []Variable{
		{Name: "subject", Label: "Subject", Flux: fmt.Sprintf(`import "influxdata/influxdb/v1"
v1.tagValues(bucket: %s, tag: "subject", predicate: (r) => r._measurement == %q, start: -5y)
`, FluxString(bucket), schema.Ingest)},
		{Name: "site", Label: "Site", Flux: fmt.Sprintf(`import "influxdata/influxdb/v1"
v1.tagValues(bucket: %s, tag: "site", predicate: (r) => r._measurement == %q and r.subject == v.subject, start: -5y)
`, FluxString(bucket), schema.Ingest)},
	}
}

func panels(bucket string) []Panel {
	tw := query(bucket, schema.Twitch, inRange, true, "confirmed") + distinctTwitches
	return []Panel{
		{
			ID: "about", Title: "About these numbers", Kind: KindNote, W: 12, H: 2,
			Text: "Twitches are counted once each: every EMG twitch, plus accelerometer twitches that EMG did not confirm. " +
				"Days are UTC days. Rates are twitches per hour of rest, after exercise or at rest without exercise before it.\n\n**" +
				Notice + "**",
		},
		{
			ID: "status", Title: "Current status per site", Kind: KindTable, W: 12, H: 4,
			Help: "The last assessment of each site of the subject up to the end of the time range: the persistence rule's status, why, and the advice.",
			Flux: query(bucket, schema.Assessment, untilStop, false, "status_level", "reason", "advice", "notice") + pivot +
				`  |> group(columns: ["subject", "site"])
  |> sort(columns: ["_time"])
  |> tail(n: 1)
  |> keep(columns: ["_time", "site", "status", "reason", "advice", "notice"])
  |> group()
`,
			Columns: []Column{{"site", "Site", FormatText}, {"status", "Status", FormatText}, {"_time", "Assessed", FormatTime},
				{"reason", "Why", FormatText}, {"advice", "Advice", FormatText}, {"notice", "Notice", FormatText}},
		},
		{
			ID: "status-history", Title: "Status over time", Kind: KindSteps, W: 6, H: 3, Series: "site",
			Help: "The status of every assessment (0 none ... 5 persistent with symptoms), the last one in each window.",
			Flux: query(bucket, schema.Assessment, inRange, true, "status_level") +
				fmt.Sprintf(`  |> map(fn: (r) => ({r with _value: %s}))
  |> group(columns: ["site"])
  |> sort(columns: ["_time"])
  |> aggregateWindow(every: v.windowPeriod, fn: last, createEmpty: false)
  |> keep(columns: ["_time", "_value", "site"])
`, statusLevel()),
			YLabel: "status", Levels: statusNames(),
		},
		{
			ID: "twitches-per-day", Title: "Twitches per day", Kind: KindBars, W: 6, H: 3, Series: "phase",
			Help: "Twitches per UTC day by phase: at rest after exercise (post_exercise), at rest without exercise before it (rest), or during activity.",
			Flux: tw + `  |> group(columns: ["phase"])
` + perDay("count") + `  |> keep(columns: ["_time", "_value", "phase"])
`,
			YLabel: "twitches",
		},
		{
			ID: "twitch-rate", Title: "Twitch rate per hour of rest", Kind: KindLines, W: 6, H: 3, Series: "rest",
			Help: "Twitches per hour of rest per UTC day: rest after exercise, and rest without exercise before it. Symptom notes are marked.",
			Flux: fmt.Sprintf(`twitches = %s  |> filter(fn: (r) => r.phase == "post_exercise" or r.phase == "rest")
  |> map(fn: (r) => ({_time: r._time, rest: if r.phase == "post_exercise" then "after exercise" else "at rest without exercise", n: 1.0, h: 0.0}))
rests = %s%s  |> map(fn: (r) => ({_time: r._time, rest: if r.after_exercise then "after exercise" else "at rest without exercise", n: 0.0, h: r.duration_s / 3600.0}))
union(tables: [twitches, rests])
  |> group(columns: ["rest"])
  |> window(every: 1d)
  |> reduce(fn: (r, accumulator) => ({n: accumulator.n + r.n, h: accumulator.h + r.h}), identity: {n: 0.0, h: 0.0})
  |> filter(fn: (r) => r.h > 0.0)
  |> map(fn: (r) => ({_time: r._start, rest: r.rest, _value: r.n / r.h}))
  |> group(columns: ["rest"])
`, tw, query(bucket, schema.Rest, inRange, true, "duration_s", "after_exercise"), pivot),
			Markers: query(bucket, schema.Symptom, inRange, false, "text", "count") +
				`  |> filter(fn: (r) => not exists r.site or r.site == v.site)
` + pivot + `  |> group()
  |> keep(columns: ["_time", "symptom", "text"])
`,
			YLabel: "twitches per hour", Unit: "/h",
		},
		{
			ID: "twitch-heatmap", Title: "When twitches come: hour of day by day", Kind: KindHeatmap, W: 6, H: 3,
			Help: "Each twitch counted in its UTC day (x) and hour of day (y).",
			Flux: "import \"date\"\n\n" + tw + `  |> map(fn: (r) => ({_time: r._time, _value: float(v: date.hour(t: r._time))}))
  |> group()
`,
			YLabel: "hour of day (UTC)",
		},
		{
			ID: "bout-minutes", Title: "Exercise per day by intensity", Kind: KindBars, W: 6, H: 3, Series: "intensity",
			Help: "Minutes of exercise bouts per UTC day, by the bout's intensity (light, moderate, vigorous).",
			Flux: query(bucket, schema.Bout, inRange, true, "duration_s") + `  |> map(fn: (r) => ({r with _value: r._value / 60.0}))
  |> group(columns: ["intensity"])
` + perDay("sum") + `  |> keep(columns: ["_time", "_value", "intensity"])
`,
			YLabel: "minutes", Unit: " min",
		},
		{
			ID: "bout-peak", Title: "Peak bout intensity per day", Kind: KindSteps, W: 3, H: 3, Series: "measure",
			Help: "The most intense bout of each UTC day (1 light, 2 moderate, 3 vigorous).",
			Flux: query(bucket, schema.Bout, inRange, true, "intensity_level") + `  |> group()
` + perDay("max") + `  |> map(fn: (r) => ({_time: r._time, _value: r._value, measure: "peak intensity"}))
  |> group(columns: ["measure"])
`,
			YLabel: "intensity", Levels: []string{"", "light", "moderate", "vigorous"},
		},
		{
			ID: "cramp-count", Title: "Cramps", Kind: KindStat, W: 3, H: 3,
			Help: "Cramps (sustained EMG activity of 3 s or more with the limb still) in the time range.",
			Flux: query(bucket, schema.Cramp, inRange, true, "duration_s") + `  |> group()
  |> count()
  |> keep(columns: ["_value"])
`,
			Unit: " cramps",
		},
		{
			ID: "cramps", Title: "Cramps, one per row", Kind: KindTable, W: 6, H: 3,
			Help: "When each cramp started, how long it lasted and its peak EMG amplitude.",
			Flux: query(bucket, schema.Cramp, inRange, true, "duration_s", "peak") + pivot + `  |> group()
  |> sort(columns: ["_time"])
  |> keep(columns: ["_time", "sensor", "channel", "duration_s", "peak"])
`,
			Columns: []Column{{"_time", "Start", FormatTime}, {"sensor", "Sensor", FormatText}, {"channel", "Channel", FormatText},
				{"duration_s", "Seconds", FormatFloat}, {"peak", "Peak (mV)", FormatFloat}},
		},
		{
			ID: "symptoms", Title: "Symptom notes", Kind: KindTable, W: 6, H: 3,
			Help: "What the subject logged with `twitchd note` for this site or for every site.",
			Flux: query(bucket, schema.Symptom, inRange, false, "text", "count") +
				`  |> filter(fn: (r) => not exists r.site or r.site == v.site)
` + pivot + `  |> group()
  |> sort(columns: ["_time"])
  |> keep(columns: ["_time", "symptom", "text"])
`,
			Columns: []Column{{"_time", "Time", FormatTime}, {"symptom", "Symptom", FormatText}, {"text", "Note", FormatText}},
		},
		{
			ID: "sensors", Title: "Twitches per site and sensor", Kind: KindTable, W: 6, H: 3,
			Help: "Twitches each sensor found at each site of the subject, and the share confirmed by both EMG and accelerometer.",
			Flux: query(bucket, schema.Twitch, inRange, false, "confirmed") + `  |> group(columns: ["site", "sensor"])
  |> reduce(fn: (r, accumulator) => ({twitches: accumulator.twitches + 1, confirmed: accumulator.confirmed + (if r._value then 1 else 0)}), identity: {twitches: 0, confirmed: 0})
  |> map(fn: (r) => ({site: r.site, sensor: r.sensor, twitches: r.twitches, confirmed: r.confirmed, confirmed_pct: 100.0 * float(v: r.confirmed) / float(v: r.twitches)}))
  |> group()
  |> sort(columns: ["site", "sensor"])
`,
			Columns: []Column{{"site", "Site", FormatText}, {"sensor", "Sensor", FormatText}, {"twitches", "Twitches", FormatInt},
				{"confirmed", "Confirmed by both", FormatInt}, {"confirmed_pct", "Share confirmed", FormatPercent}},
		},
		{
			ID: "amplitude-emg", Title: "EMG twitch amplitude", Kind: KindHistogram, W: 3, H: 3, Series: "sensor", Bins: 20,
			Help: "Distribution of the peak band-passed EMG amplitude of the twitches (mV).",
			Flux: query(bucket, schema.Twitch, inRange, true, "peak") + `  |> filter(fn: (r) => r.sensor == "emg")
  |> group(columns: ["sensor"])
  |> keep(columns: ["_time", "_value", "sensor"])
`,
			XLabel: "peak (mV)",
		},
		{
			ID: "amplitude-acc", Title: "Accelerometer twitch amplitude", Kind: KindHistogram, W: 3, H: 3, Series: "sensor", Bins: 20,
			Help: "Distribution of the peak twitch-band acceleration of the twitches the accelerometer saw (g).",
			Flux: query(bucket, schema.Twitch, inRange, true, "peak") + `  |> filter(fn: (r) => r.sensor == "acc")
  |> group(columns: ["sensor"])
  |> keep(columns: ["_time", "_value", "sensor"])
`,
			XLabel: "peak (g)",
		},
		{
			ID: "ingest", Title: "Recordings: ingest health per file", Kind: KindTable, W: 12, H: 3,
			Help: "Every recording replayed for the subject: samples read, malformed lines skipped, samples lost by the device or the file, and points InfluxDB rejected.",
			Flux: query(bucket, schema.Ingest, inRange, false) + pivot + `  |> group()
  |> sort(columns: ["_time"])
  |> keep(columns: ["_time", "site", "file", "format", "duration_s", "samples", "skipped_lines", "lost_samples", "points_rejected"])
`,
			Columns: []Column{{"_time", "Start", FormatTime}, {"site", "Site", FormatText}, {"file", "File", FormatText},
				{"format", "Format", FormatText}, {"duration_s", "Seconds", FormatFloat}, {"samples", "Samples", FormatInt},
				{"skipped_lines", "Skipped lines", FormatInt}, {"lost_samples", "Lost samples", FormatInt},
				{"points_rejected", "Points rejected", FormatInt}},
		},
	}
}
