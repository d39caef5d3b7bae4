package dashboards

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The rules below are those InfluxDB 2.x's template parser (pkger) applies
// when `influx apply` reads a template, as found in its source (v2.7):
// every object's apiVersion is influxdata.com/v2alpha1 or v2alpha2 and its
// kind a known one; metadata.name is a DNS-1123 label of at most 63
// characters, unique per kind; a label's name has at least 2 characters;
// a variable of type query has a query and the language flux or influxql;
// a dashboard's name has at least 2 characters, its label associations
// name labels of the template; a chart's kind is one of the known ones
// (compared in lower case), its width and height are positive, every
// colour has a hex value; heatmaps need x and y axes, histograms an x
// axis, scatter and single_stat_plus_line x and y axes, XY charts a
// known geom and x and y axes; positions are overlaid or stacked; table
// wrapping is single-line, truncate or wrap. We add what the UI needs to
// draw the dashboard: hex colours that are real colours, cells inside the
// 12-column grid that do not overlap, and queries that use only the
// variables the template defines or the UI passes.

var (
	dns1123       = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	hexColour     = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	fluxIdent     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	templateKinds = []string{"Bucket", "Check", "CheckDeadman", "CheckThreshold", "Dashboard", "Label",
		"NotificationEndpoint", "NotificationEndpointHTTP", "NotificationEndpointPagerDuty",
		"NotificationEndpointSlack", "NotificationRule", "Task", "Telegraf", "Variable"}
	chartKinds = []string{"gauge", "geo", "heatmap", "histogram", "markdown", "mosaic", "scatter",
		"single_stat", "single_stat_plus_line", "table", "xy", "band"}
	geoms = []string{"line", "step", "stacked", "monotoneX", "bar"}
)

type obj = map[string]any

func str(o obj, k string) string { s, _ := o[k].(string); return s }

func objs(o obj, k string) []obj {
	var out []obj
	l, _ := o[k].([]any)
	for _, x := range l {
		if m, ok := x.(obj); ok {
			out = append(out, m)
		}
	}
	return out
}

func intOf(o obj, k string) int { f, _ := o[k].(float64); return int(f) }

// checkTemplate returns every rule the template b breaks.
func checkTemplate(b []byte) []string {
	var list []obj
	if err := json.Unmarshal(b, &list); err != nil {
		return []string{"not a JSON array of objects: " + err.Error()}
	}
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	names := map[string]bool{}
	labels := map[string]bool{}
	vars := map[string]bool{}
	for _, v := range BuiltinVars {
		vars[v] = true
	}
	var dashboards []obj
	for i, o := range list {
		kind := str(o, "kind")
		if api := str(o, "apiVersion"); api != "influxdata.com/v2alpha1" && api != "influxdata.com/v2alpha2" {
			bad("object %d: apiVersion %q", i, api)
		}
		if !slices.Contains(templateKinds, kind) {
			bad("object %d: kind %q", i, kind)
		}
		meta, _ := o["metadata"].(obj)
		name := str(meta, "name")
		if len(name) > 63 || !dns1123.MatchString(name) {
			bad("%s %q: metadata.name is not a DNS-1123 label of at most 63 characters", kind, name)
		}
		if names[kind+"/"+name] {
			bad("%s %q: duplicate name", kind, name)
		}
		names[kind+"/"+name] = true
		spec, _ := o["spec"].(obj)
		display := str(spec, "name")
		if display == "" {
			display = name
		}
		switch kind {
		case "Label":
			labels[name] = true
			if len(display) < 2 {
				bad("label %q: name shorter than 2 characters", name)
			}
			if c := str(spec, "color"); c != "" && !hexColour.MatchString(c) {
				bad("label %q: colour %q is not #rrggbb", name, c)
			}
		case "Variable":
			checkVariable(spec, name, bad)
			vars[display] = true
		case "Dashboard":
			if len(display) < 2 {
				bad("dashboard %q: name shorter than 2 characters", name)
			}
			dashboards = append(dashboards, o)
		}
	}
	for _, o := range list {
		spec, _ := o["spec"].(obj)
		for _, a := range objs(spec, "associations") {
			if str(a, "kind") == "Label" && !labels[str(a, "name")] {
				bad("%s: label %q is not in the template", str(o, "kind"), str(a, "name"))
			}
		}
		if str(o, "kind") == "Variable" {
			checkVarRefs(str(spec, "query"), vars, "variable "+str(spec, "name"), bad)
		}
	}
	for _, o := range dashboards {
		spec, _ := o["spec"].(obj)
		checkCharts(objs(spec, "charts"), vars, bad)
	}
	return errs
}

func checkVariable(spec obj, name string, bad func(string, ...any)) {
	if !fluxIdent.MatchString(str(spec, "name")) {
		bad("variable %q: name %q cannot be used as v.NAME in Flux", name, str(spec, "name"))
	}
	switch str(spec, "type") {
	case "query":
		if strings.TrimSpace(str(spec, "query")) == "" {
			bad("variable %q: query variable without a query", name)
		}
		if l := strings.ToLower(str(spec, "language")); l != "flux" && l != "influxql" {
			bad("variable %q: language %q, want flux or influxql", name, l)
		}
	case "constant", "map":
		if spec["values"] == nil {
			bad("variable %q: no values", name)
		}
	default:
		bad("variable %q: type %q", name, str(spec, "type"))
	}
}

func checkVarRefs(q string, vars map[string]bool, where string, bad func(string, ...any)) {
	for _, v := range UsedVars(q) {
		if !vars[v] {
			bad("%s: uses v.%s, which neither the template nor the UI defines", where, v)
		}
	}
}

func checkCharts(charts []obj, vars map[string]bool, bad func(string, ...any)) {
	if len(charts) == 0 {
		bad("dashboard without charts")
	}
	var cells [][4]int
	for _, c := range charts {
		kind := strings.ToLower(strings.TrimSpace(str(c, "kind")))
		name := str(c, "name")
		if !slices.Contains(chartKinds, kind) {
			bad("chart %q: kind %q", name, str(c, "kind"))
			continue
		}
		x, y, w, h := intOf(c, "xPos"), intOf(c, "yPos"), intOf(c, "width"), intOf(c, "height")
		if w <= 0 || h <= 0 {
			bad("chart %q: width and height must be positive", name)
		}
		if x < 0 || y < 0 || x+w > GridColumns {
			bad("chart %q: cell (%d,%d) %dx%d leaves the %d-column grid", name, x, y, w, h, GridColumns)
		}
		for _, o := range cells {
			if x < o[0]+o[2] && o[0] < x+w && y < o[1]+o[3] && o[1] < y+h {
				bad("chart %q overlaps another at (%d,%d)", name, o[0], o[1])
			}
		}
		cells = append(cells, [4]int{x, y, w, h})
		if kind == "markdown" {
			if str(c, "note") == "" {
				bad("markdown %q: no text", name)
			}
			continue
		}
		checkChartProps(c, kind, name, bad)
		qs := objs(c, "queries")
		if len(qs) == 0 {
			bad("chart %q: no query", name)
		}
		for _, q := range qs {
			if strings.TrimSpace(str(q, "query")) == "" {
				bad("chart %q: empty query", name)
			}
			checkVarRefs(str(q, "query"), vars, "chart "+name, bad)
		}
	}
}

func checkChartProps(c obj, kind, name string, bad func(string, ...any)) {
	for i, col := range objs(c, "colors") {
		if !hexColour.MatchString(str(col, "hex")) {
			bad("chart %q: colour %d has no #rrggbb hex (%q)", name, i, str(col, "hex"))
		}
	}
	axes := map[string]bool{}
	for _, a := range objs(c, "axes") {
		axes[str(a, "name")] = true
	}
	need := func(names ...string) {
		for _, n := range names {
			if !axes[n] {
				bad("chart %q (%s): axis %q missing", name, kind, n)
			}
		}
	}
	position := func() {
		if p := strings.ToLower(str(c, "position")); p != "" && p != "overlaid" && p != "stacked" {
			bad("chart %q: position %q", name, p)
		}
	}
	switch kind {
	case "heatmap", "scatter":
		need("x", "y")
	case "histogram":
		need("x")
		position()
	case "single_stat_plus_line":
		need("x", "y")
		position()
	case "xy":
		need("x", "y")
		position()
		if !slices.Contains(geoms, str(c, "geom")) {
			bad("chart %q: geom %q", name, str(c, "geom"))
		}
	case "table":
		opts, _ := c["tableOptions"].(obj)
		if w := str(opts, "wrapping"); w != "" && w != "single-line" && w != "truncate" && w != "wrap" {
			bad("chart %q: wrapping %q", name, w)
		}
	case "gauge":
		types := map[string]bool{}
		for _, col := range objs(c, "colors") {
			types[str(col, "type")] = true
		}
		if !types["min"] || !types["max"] {
			bad("gauge %q: needs min and max colours", name)
		}
	}
}

func TestTemplateFollowsInfluxApplyRules(t *testing.T) {
	b, err := Template(New("twitchd/autogen"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range checkTemplate(b) {
		t.Error(e)
	}
	var list []obj
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, o := range list {
		kinds[str(o, "kind")]++
	}
	if kinds["Label"] != 1 || kinds["Variable"] != 2 || kinds["Dashboard"] != 1 || len(list) != 4 {
		t.Errorf("template objects %v, want a Label, two Variables and a Dashboard", kinds)
	}
	for _, o := range list {
		if str(o, "kind") == "Variable" {
			spec := o["spec"].(obj)
			if !strings.Contains(str(spec, "query"), "v1.tagValues(") || !strings.Contains(str(spec, "query"), `import "influxdata/influxdb/v1"`) {
				t.Errorf("variable %s: not a v1.tagValues query: %s", str(spec, "name"), str(spec, "query"))
			}
		}
	}
}

// TestTemplateCheckerCatches makes sure the rules above can fail: each
// case breaks one rule in an otherwise good template.
func TestTemplateCheckerCatches(t *testing.T) {
	good, err := Template(New("twitchd/autogen"))
	if err != nil {
		t.Fatal(err)
	}
	chart := func(list []obj, name string) obj {
		for _, o := range list {
			if str(o, "kind") == "Dashboard" {
				for _, c := range objs(o["spec"].(obj), "charts") {
					if str(c, "name") == name {
						return c
					}
				}
			}
		}
		t.Fatalf("no chart %q", name)
		return nil
	}
	for _, c := range []struct {
		name, want string
		breakIt    func([]obj)
	}{
		{"long name", "DNS-1123", func(l []obj) { l[0]["metadata"].(obj)["name"] = strings.Repeat("a", 64) }},
		{"upper case name", "DNS-1123", func(l []obj) { l[1]["metadata"].(obj)["name"] = "Subject" }},
		{"bad api version", "apiVersion", func(l []obj) { l[2]["apiVersion"] = "influxdata.com/v1" }},
		{"variable language", "language", func(l []obj) { l[1]["spec"].(obj)["language"] = "sql" }},
		{"unknown chart kind", "kind", func(l []obj) { chart(l, "Status over time")["kind"] = "Pie" }},
		{"xy without y axis", `axis "y"`, func(l []obj) { chart(l, "Twitches per day")["axes"] = []any{obj{"name": "x"}} }},
		{"heatmap without axes", `axis "x"`, func(l []obj) { delete(chart(l, "When twitches come: hour of day by day"), "axes") }},
		{"histogram without x axis", `axis "x"`, func(l []obj) { delete(chart(l, "EMG twitch amplitude"), "axes") }},
		{"bad geom", "geom", func(l []obj) { chart(l, "Twitches per day")["geom"] = "area" }},
		{"bad position", "position", func(l []obj) { chart(l, "Twitches per day")["position"] = "beside" }},
		{"colour without hex", "hex", func(l []obj) {
			chart(l, "Twitches per day")["colors"] = []any{obj{"type": "scale", "name": "x"}}
		}},
		{"overlap", "overlaps", func(l []obj) { chart(l, "Twitches per day")["xPos"] = float64(0) }},
		{"zero width", "positive", func(l []obj) { chart(l, "Cramps")["width"] = float64(0) }},
		{"unknown variable", "v.person", func(l []obj) {
			c := chart(l, "Cramps")
			c["queries"] = []any{obj{"query": "from(bucket: v.person)"}}
		}},
		{"missing label", "label", func(l []obj) { l[0]["metadata"].(obj)["name"] = "other" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var l []obj
			if err := json.Unmarshal(good, &l); err != nil {
				t.Fatal(err)
			}
			c.breakIt(l)
			b, _ := json.Marshal(l)
			errs := checkTemplate(b)
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, c.want) }) {
				t.Errorf("checker missed it: %v", errs)
			}
		})
	}
}

// TestWithVarsInlinesSubjectAndSite: the subject and site become string
// literals in the query (what Flux 0.65 pushes down into storage), the
// times and window stay in the v record, imports stay first.
func TestWithVarsInlinesSubjectAndSite(t *testing.T) {
	q := "import \"date\"\n\nfrom(bucket: \"b\")\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n" +
		"  |> filter(fn: (r) => r.subject == v.subject and r.site == v.site and r.x == v.subjects)\n"
	got := WithVars(q, Vars{Start: time.Unix(0, 0), Stop: time.Unix(60, 0), Window: time.Minute, Subject: `a"b`, Site: "calf"})
	for _, want := range []string{`r.subject == "a\"b" and r.site == "calf" and r.x == v.subjects`, "range(start: v.timeRangeStart, stop: v.timeRangeStop)"} {
		if !strings.Contains(got, want) {
			t.Errorf("%s\nlacks %s", got, want)
		}
	}
	if !strings.HasPrefix(got, "import \"date\"\n\nv = {timeRangeStart: 1970-01-01T00:00:00Z") {
		t.Errorf("imports and v record:\n%s", got)
	}
}
