package web

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/twitchd/twitchd/internal/dashboards"
	"github.com/twitchd/twitchd/internal/dashboards/dashtest"
	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/pipeline"
)

func TestMain(m *testing.M) { influxtest.Main(m) }

func newServer(t *testing.T, url, bucket string) *httptest.Server {
	t.Helper()
	client := influxdb2.NewClientWithOptions(url, "", influxdb2.DefaultOptions().SetLogLevel(0).SetHTTPRequestTimeout(10))
	t.Cleanup(client.Close)
	s, err := New(Config{Dashboard: dashboards.NewWith(bucket, dashboards.DefaultActivityBuckets(bucket, dashtest.ActivityBucket)), Query: client.QueryAPI("twitchd"), Where: url, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

var panelState = regexp.MustCompile(`data-panel="([a-z0-9-]+)" data-state="([a-z]+)" data-rows="(\d+)"`)

// states returns each panel's state from a page.
func states(page string) map[string]string {
	out := map[string]string{}
	for _, m := range panelState.FindAllStringSubmatch(page, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func lastStatus(evs []pipeline.Event, subject, site string) *pipeline.Assessment {
	var last *pipeline.Assessment
	for _, ev := range evs {
		if a, ok := ev.(*pipeline.Assessment); ok && a.Subject == subject && a.Site == site && (last == nil || a.Time >= last.Time) {
			last = a
		}
	}
	return last
}

func cramps(evs []pipeline.Event, subject, site string) int {
	n := 0
	for _, ev := range evs {
		if c, ok := ev.(*pipeline.Cramp); ok && c.Subject == subject && c.Site == site {
			n++
		}
	}
	return n
}

// TestServe replays the dashboards' test data into influxd and checks the
// page: defaults that show the data, every panel drawn, the numbers it
// shows, the messages for an unknown subject, an empty range, an empty
// database and an unreachable server; and, in a real browser, that the
// page loads cleanly without leaving the machine.
func TestServe(t *testing.T) {
	srv := influxtest.Shared(t)
	data := dashtest.Load(t, srv)
	ts := newServer(t, srv.URL, srv.Bucket)

	t.Run("defaults", func(t *testing.T) {
		code, page := get(t, ts.URL+"/")
		if code != 200 {
			t.Fatalf("GET /: %d\n%s", code, page)
		}
		d := dashboards.New(srv.Bucket)
		st := states(page)
		for _, p := range d.Panels {
			if st[p.ID] != "ok" {
				t.Errorf("panel %s: state %q, want ok", p.ID, st[p.ID])
			}
		}
		for _, want := range []string{`<option selected>ann</option>`, `<option selected>calf_left</option>`,
			`name="from" value="2026-11-02"`, `name="to" value="2026-11-04"`, dashboards.Notice} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		a := lastStatus(data.Events, dashtest.Ann, dashtest.Calf)
		if !strings.Contains(page, `<td class="status status-`+a.Status+`">`) {
			t.Errorf("status table lacks the last assessment's status %s", a.Status)
		}
		stat := fmt.Sprintf(`<span class="stat-value">%d</span>`, cramps(data.Events, dashtest.Ann, dashtest.Calf))
		if !strings.Contains(page, stat) {
			t.Errorf("cramp count: page lacks %s", stat)
		}
	})
	t.Run("other subject", func(t *testing.T) {
		code, page := get(t, ts.URL+"/?subject=bob")
		if code != 200 || !strings.Contains(page, `name="from" value="2026-11-03"`) || !strings.Contains(page, `<span class="stat-value">0</span>`) {
			t.Errorf("bob: %d; want his day and no cramps:\n%s", code, page)
		}
	})
	t.Run("unknown subject", func(t *testing.T) {
		code, page := get(t, ts.URL+"/?subject=nobody")
		if code != 404 || !strings.Contains(page, `holds nothing for subject &#34;nobody&#34;`) || !strings.Contains(page, "ann, bob") {
			t.Errorf("unknown subject: %d\n%s", code, page)
		}
	})
	t.Run("range without data", func(t *testing.T) {
		code, page := get(t, ts.URL+"/?subject=ann&site=calf_left&from=2025-01-01&to=2025-01-31")
		if code != 200 || !strings.Contains(page, "holds nothing for subject") || !strings.Contains(page, "Show their recordings") {
			t.Errorf("empty range: %d\n%s", code, page)
		}
		if st := states(page); st["status"] != "empty" || st["twitches-per-day"] != "empty" {
			t.Errorf("empty range: states %v", st)
		}
	})
	t.Run("bad date", func(t *testing.T) {
		if code, page := get(t, ts.URL+"/?from=yesterday"); code != 400 || !strings.Contains(page, "is not a date") {
			t.Errorf("bad date: %d\n%s", code, page)
		}
	})
	t.Run("flux", func(t *testing.T) {
		code, body := get(t, ts.URL+"/flux?panel=twitches-per-day&subject=ann&site=calf_left&from=2026-11-02&to=2026-11-05")
		if code != 200 || !strings.Contains(body, `v = {timeRangeStart: 2026-11-02T00:00:00Z, timeRangeStop: 2026-11-05T00:00:00Z`) ||
			!strings.Contains(body, `aggregateWindow(every: 1d, fn: count`) {
			t.Errorf("flux: %d\n%s", code, body)
		}
	})
	t.Run("assets", func(t *testing.T) {
		for _, p := range []string{"/static/style.css", "/static/app.js", "/static/favicon.svg"} {
			if code, body := get(t, ts.URL+p); code != 200 || len(body) < 100 {
				t.Errorf("%s: %d, %d bytes", p, code, len(body))
			}
		}
	})
	t.Run("browser", func(t *testing.T) { browse(t, ts.URL, data) })
	t.Run("empty database", func(t *testing.T) {
		srv.Reset(t)
		code, page := get(t, ts.URL+"/")
		if code != 200 || !strings.Contains(page, "holds no twitchd recordings") || !strings.Contains(page, "twitchd replay --influx-url") {
			t.Errorf("empty database: %d\n%s", code, page)
		}
	})
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close() // nothing answers there now
	ts := newServer(t, url, "twitchd/autogen")
	code, page := get(t, ts.URL+"/")
	if code != http.StatusServiceUnavailable || !strings.Contains(page, "InfluxDB does not answer at "+url) {
		t.Errorf("unreachable: %d\n%s", code, page)
	}
}

func TestWindowPeriod(t *testing.T) {
	for _, c := range []struct {
		span, want time.Duration
	}{{time.Hour, 30 * time.Second}, {24 * time.Hour, 5 * time.Minute}, {3 * 24 * time.Hour, 30 * time.Minute},
		{31 * 24 * time.Hour, 3 * time.Hour}, {365 * 24 * time.Hour, 24 * time.Hour}} {
		if got := windowPeriod(c.span); got != c.want {
			t.Errorf("windowPeriod(%v) = %v, want %v", c.span, got, c.want)
		}
	}
}
