package web

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/browsertest"
	"github.com/twitchd/twitchd/internal/dashboards/dashtest"
)

// browse loads the page in headless Chromium: no console message, no
// error, no request off the machine, every panel drawn with data, and a
// screenshot kept in the artefact directory.
func browse(t *testing.T, base string, data *dashtest.Data) {
	b := browsertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	page, err := b.NewPage(ctx, 1400, 900)
	if err != nil {
		t.Fatal(err)
	}
	if err := page.Navigate(ctx, base+"/"); err != nil {
		t.Fatal(err)
	}
	var panels []struct {
		ID     string  `json:"id"`
		State  string  `json:"state"`
		Rows   int     `json:"rows"`
		SVG    int     `json:"svg"`
		Marks  int     `json:"marks"`
		Cells  int     `json:"cells"`
		Text   string  `json:"text"`
		Height float64 `json:"height"`
	}
	err = page.Eval(ctx, `Array.from(document.querySelectorAll("section.panel")).map(s => ({
		id: s.dataset.panel, state: s.dataset.state, rows: +s.dataset.rows,
		svg: s.querySelectorAll("svg").length, marks: s.querySelectorAll("svg path").length,
		cells: s.querySelectorAll("tbody tr").length, text: s.innerText, height: s.getBoundingClientRect().height}))`, &panels)
	if err != nil {
		t.Fatal(err)
	}
	if len(panels) < 10 {
		t.Fatalf("%d panels on the page", len(panels))
	}
	a := lastStatus(data.Events, dashtest.Ann, dashtest.Calf)
	for _, p := range panels {
		switch {
		case p.State != "ok":
			t.Errorf("panel %s: %s: %s", p.ID, p.State, p.Text)
		case p.ID == "about":
		case p.Rows == 0:
			t.Errorf("panel %s: no rows", p.ID)
		case p.Cells == 0 && p.SVG == 0 && !strings.Contains(p.Text, "cramps"):
			t.Errorf("panel %s: neither a chart, a table nor a number: %q", p.ID, p.Text)
		case p.SVG > 0 && p.Marks < 10:
			t.Errorf("panel %s: a chart with %d paths", p.ID, p.Marks)
		case p.Height < 60:
			t.Errorf("panel %s: %.0f px high", p.ID, p.Height)
		}
		if p.ID == "status" && !strings.Contains(p.Text, strings.ReplaceAll(a.Status, "_", " ")) {
			t.Errorf("status panel does not show %s: %q", a.Status, p.Text)
		}
		if p.ID == "cramp-count" && !strings.HasPrefix(strings.TrimSpace(p.Text[strings.Index(p.Text, "still) in the time range.")+25:]),
			strconv.Itoa(cramps(data.Events, dashtest.Ann, dashtest.Calf))) {
			t.Errorf("cramp count shows %q", p.Text)
		}
	}
	// Picking the other subject reloads the page through the script.
	var picked string
	if err := page.Eval(ctx, `(() => { const s = document.querySelector("select[name=subject]"); s.value = "bob";
		s.dispatchEvent(new Event("change")); return s.value; })()`, &picked); err != nil || picked != "bob" {
		t.Fatalf("pick bob: %q %v", picked, err)
	}
	var subject string
	for i := 0; i < 100 && subject != "bob"; i++ {
		time.Sleep(100 * time.Millisecond)
		_ = page.Eval(ctx, `new URLSearchParams(location.search).get("subject") || ""`, &subject)
	}
	if subject != "bob" {
		t.Errorf("choosing bob did not load his page")
	}
	if err := page.Navigate(ctx, base+"/"); err != nil {
		t.Fatal(err)
	}
	shot, err := page.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(browsertest.ArtefactDir(t), "serve.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
	for _, m := range page.Console() {
		t.Errorf("console: %s", m)
	}
	for _, e := range page.Errors() {
		t.Errorf("browser error: %s", e)
	}
	reqs := page.Requests()
	if len(reqs) < 4 {
		t.Errorf("only %d requests seen: %v", len(reqs), reqs)
	}
	for _, r := range reqs {
		u, err := url.Parse(r)
		if err != nil {
			t.Errorf("request %q: %v", r, err)
			continue
		}
		if u.Scheme == "data" || u.Scheme == "about" {
			continue
		}
		if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
			t.Errorf("request to %s leaves the machine", r)
		}
	}
}
