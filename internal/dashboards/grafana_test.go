package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The dashboard model as Grafana 10.4 and 11 load it (the JSON model of
// their docs and the schema of grafana/grafana's dashboard kind):
// schemaVersion a number (39 for these versions), a uid of at most 40
// characters of letters, digits, - and _; panels with unique positive
// ids, a known type, a gridPos inside the 24-column grid that overlaps no
// other; data source references {type, uid} that name the provisioned
// InfluxDB data source; targets with unique refIds; template variables
// with a name, a type and, for query variables, a data source and a
// query; ${NAME} used in queries only for variables that exist.

var (
	grafanaUID   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)
	grafanaRef   = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(:[a-z]+)?\}|\$([A-Za-z0-9_]+)`)
	grafanaTypes = []string{"text", "table", "stat", "timeseries", "heatmap", "histogram", "barchart", "state-timeline", "row"}
)

// checkGrafana returns every rule the dashboard b breaks.
func checkGrafana(b []byte) []string {
	var d obj
	if err := json.Unmarshal(b, &d); err != nil {
		return []string{"not a JSON object: " + err.Error()}
	}
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if sv, _ := d["schemaVersion"].(float64); int(sv) != GrafanaSchemaVersion {
		bad("schemaVersion %v, want %d", d["schemaVersion"], GrafanaSchemaVersion)
	}
	if !grafanaUID.MatchString(str(d, "uid")) {
		bad("uid %q", str(d, "uid"))
	}
	if str(d, "title") == "" {
		bad("no title")
	}
	vars := map[string]bool{}
	templ, _ := d["templating"].(obj)
	for _, v := range objs(templ, "list") {
		name := str(v, "name")
		if name == "" || vars[name] {
			bad("variable %q: empty or duplicate name", name)
		}
		vars[name] = true
		if str(v, "type") != "query" {
			bad("variable %q: type %q", name, str(v, "type"))
			continue
		}
		checkDataSource(v["datasource"], "variable "+name, bad)
		if strings.TrimSpace(str(v, "query")) == "" {
			bad("variable %q: no query", name)
		}
	}
	refs := func(q, where string) {
		for _, m := range grafanaRef.FindAllStringSubmatch(q, -1) {
			n := m[1] + m[3]
			if !vars[n] && !strings.HasPrefix(n, "__") {
				bad("%s: uses $%s, which is not a variable", where, n)
			}
		}
		if strings.Contains(q, "v.subject") || strings.Contains(q, "v.site") {
			bad("%s: v.subject or v.site, which Grafana does not define", where)
		}
	}
	for _, v := range objs(templ, "list") {
		refs(str(v, "query"), "variable "+str(v, "name"))
	}
	annos, _ := d["annotations"].(obj)
	for _, a := range objs(annos, "list") {
		if a["builtIn"] != nil {
			continue
		}
		checkDataSource(a["datasource"], "annotation "+str(a, "name"), bad)
		target, _ := a["target"].(obj)
		refs(str(target, "query"), "annotation "+str(a, "name"))
	}
	checkPanels(objs(d, "panels"), refs, bad)
	return errs
}

func checkDataSource(v any, where string, bad func(string, ...any)) {
	ds, ok := v.(obj)
	if !ok || str(ds, "type") != "influxdb" || str(ds, "uid") != GrafanaDataSourceUID {
		bad("%s: data source %v, want {type: influxdb, uid: %s}", where, v, GrafanaDataSourceUID)
	}
}

func checkPanels(panels []obj, refs func(q, where string), bad func(string, ...any)) {
	if len(panels) == 0 {
		bad("no panels")
	}
	ids := map[int]bool{}
	var cells [][4]int
	for _, p := range panels {
		id, title := intOf(p, "id"), str(p, "title")
		if id <= 0 || ids[id] {
			bad("panel %q: id %d not positive or not unique", title, id)
		}
		ids[id] = true
		if !slices.Contains(grafanaTypes, str(p, "type")) {
			bad("panel %q: type %q", title, str(p, "type"))
		}
		g, _ := p["gridPos"].(obj)
		x, y, w, h := intOf(g, "x"), intOf(g, "y"), intOf(g, "w"), intOf(g, "h")
		if w < 1 || h < 1 || x < 0 || y < 0 || x+w > 24 {
			bad("panel %q: gridPos %v outside the 24-column grid", title, g)
		}
		for _, o := range cells {
			if x < o[0]+o[2] && o[0] < x+w && y < o[1]+o[3] && o[1] < y+h {
				bad("panel %q overlaps another at (%d,%d)", title, o[0], o[1])
			}
		}
		cells = append(cells, [4]int{x, y, w, h})
		targets := objs(p, "targets")
		if str(p, "type") == "text" {
			if len(targets) > 0 {
				bad("text panel %q with targets", title)
			}
			continue
		}
		if len(targets) == 0 {
			bad("panel %q: no targets", title)
		}
		checkDataSource(p["datasource"], "panel "+title, bad)
		refIDs := map[string]bool{}
		for _, tg := range targets {
			if r := str(tg, "refId"); r == "" || refIDs[r] {
				bad("panel %q: refId %q empty or repeated", title, r)
			}
			refIDs[str(tg, "refId")] = true
			checkDataSource(tg["datasource"], "panel "+title+" target", bad)
			if strings.TrimSpace(str(tg, "query")) == "" {
				bad("panel %q: empty query", title)
			}
			refs(str(tg, "query"), "panel "+title)
		}
	}
}

func TestGrafanaDashboardModel(t *testing.T) {
	b, err := GrafanaDashboard(New("twitchd/autogen"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range checkGrafana(b) {
		t.Error(e)
	}
	var d obj
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range objs(d["templating"].(obj), "list") {
		names = append(names, str(v, "name"))
	}
	if !slices.Equal(names, []string{"subject", "site"}) {
		t.Errorf("variables %v, want subject and site", names)
	}
}

func TestGrafanaCheckerCatches(t *testing.T) {
	good, err := GrafanaDashboard(New("twitchd/autogen"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, want string
		breakIt    func(obj)
	}{
		{"schema version", "schemaVersion", func(d obj) { d["schemaVersion"] = float64(16) }},
		{"duplicate id", "unique", func(d obj) { objs(d, "panels")[2]["id"] = float64(2) }},
		{"grid overflow", "grid", func(d obj) { objs(d, "panels")[3]["gridPos"].(obj)["x"] = float64(20) }},
		{"overlap", "overlaps", func(d obj) { objs(d, "panels")[3]["gridPos"].(obj)["y"] = float64(0) }},
		{"data source", "data source", func(d obj) { objs(d, "panels")[1]["datasource"] = obj{"type": "influxdb", "uid": "other"} }},
		{"unknown variable", "$person", func(d obj) {
			objs(objs(d, "panels")[1], "targets")[0]["query"] = `from(bucket: "b") |> filter(fn: (r) => r.subject == "${person}")`
		}},
		{"v.subject left", "v.subject", func(d obj) {
			objs(objs(d, "panels")[1], "targets")[0]["query"] = `from(bucket: "b") |> filter(fn: (r) => r.subject == v.subject)`
		}},
		{"variable without data source", "variable subject", func(d obj) { delete(objs(d["templating"].(obj), "list")[0], "datasource") }},
		{"panel type", "type", func(d obj) { objs(d, "panels")[1]["type"] = "graph-old" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var d obj
			if err := json.Unmarshal(good, &d); err != nil {
				t.Fatal(err)
			}
			c.breakIt(d)
			b, _ := json.Marshal(d)
			errs := checkGrafana(b)
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, c.want) }) {
				t.Errorf("checker missed it: %v", errs)
			}
		})
	}
}

// TestExport writes both formats and checks the files and the
// provisioning's references to the dashboard and the data source.
func TestExport(t *testing.T) {
	dir := t.TempDir()
	d := New("twitchd/autogen")
	s := GrafanaSettings{URL: "http://127.0.0.1:8086", Org: "twitchd", Bucket: "twitchd/autogen", DashboardsPath: "/var/lib/grafana/dashboards/twitchd"}
	for _, f := range []string{FormatInfluxDB2, FormatGrafana} {
		if _, err := Export(d, f, dir, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Export(d, "kibana", dir, s); err == nil || !strings.Contains(err.Error(), "influxdb2") {
		t.Errorf("unknown format: %v, want an error naming the formats", err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if errs := checkTemplate([]byte(read(TemplateFile))); len(errs) > 0 {
		t.Errorf("exported template: %v", errs)
	}
	if errs := checkGrafana([]byte(read(GrafanaDashboardFile))); len(errs) > 0 {
		t.Errorf("exported dashboard: %v", errs)
	}
	ds := read(GrafanaDataSourceFile)
	for _, want := range []string{"apiVersion: 1", `uid: "` + GrafanaDataSourceUID + `"`, "type: influxdb", "version: Flux",
		`url: "http://127.0.0.1:8086"`, `defaultBucket: "twitchd/autogen"`, "token: $INFLUX_TOKEN"} {
		if !strings.Contains(ds, want+"\n") {
			t.Errorf("data source file lacks %q:\n%s", want, ds)
		}
	}
	pv := read(GrafanaProviderFile)
	for _, want := range []string{"apiVersion: 1", "type: file", `folder: "twitchd"`, `path: "/var/lib/grafana/dashboards/twitchd"`} {
		if !strings.Contains(pv, want+"\n") {
			t.Errorf("provider file lacks %q:\n%s", want, pv)
		}
	}
}
