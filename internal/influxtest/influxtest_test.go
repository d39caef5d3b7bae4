package influxtest

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/write"
)

func TestMain(m *testing.M) { Main(m) }

// TestServerLifecycle writes through the client's blocking API, reads the
// point back with Flux, and checks it survives Kill and Restart on the same
// port. (Stop and Restart are exercised by the sink's outage test.)
func TestServerLifecycle(t *testing.T) {
	s := Shared(t)
	ctx := context.Background()
	w := s.Client().WriteAPIBlocking(s.Org, s.Bucket)
	ts := time.Unix(1764064800, 123456789).UTC()
	p := write.NewPoint("probe", map[string]string{"k": "v"}, map[string]any{"x": 1.5}, ts)
	if err := w.WritePoint(ctx, p); err != nil {
		t.Fatalf("write: %v", err)
	}
	check := func(when string) {
		t.Helper()
		recs := s.Query(t, `from(bucket:"twitchd/autogen") |> range(start: 0) |> filter(fn: (r) => r._measurement == "probe")`)
		if len(recs) != 1 {
			t.Fatalf("%s: got %d records, want 1: %v", when, len(recs), recs)
		}
		r := recs[0]
		if r["_field"] != "x" || r["_value"] != 1.5 || r["k"] != "v" || !r["_time"].(time.Time).Equal(ts) {
			t.Errorf("%s: record %v, want x=1.5 k=v at %v", when, r, ts)
		}
	}
	check("after write")
	url := s.URL
	s.Kill(t) // a crash: the point is only in the WAL
	if err := w.WritePoint(ctx, p); err == nil {
		t.Fatalf("write to a killed server succeeded")
	}
	s.Restart(t)
	if s.URL != url {
		t.Fatalf("URL changed across Restart: %s -> %s", url, s.URL)
	}
	check("after kill and restart")
}

func TestWriteRawReportsConflicts(t *testing.T) {
	s := Shared(t)
	if code, body := s.WriteRaw(t, "m f=\"a\" 1\n"); code != 204 {
		t.Fatalf("raw write: %d %s", code, body)
	}
	code, body := s.WriteRaw(t, "m f=1 2\n")
	if code != 400 || !strings.Contains(body, "field type conflict") {
		t.Fatalf("conflicting raw write: %d %s, want 400 field type conflict", code, body)
	}
}

func TestConfigIsQuiet(t *testing.T) {
	c := Config("/d", 1, 2)
	for _, want := range []string{`flux-enabled = true`, `level = "warn"`, `log-enabled = false`,
		`query-log-enabled = false`, `reporting-disabled = true`, `store-enabled = false`,
		`bind-address = "127.0.0.1:2"`, `bind-address = "127.0.0.1:1"`, `dir = "/d/meta"`, `wal-dir = "/d/wal"`} {
		if !strings.Contains(c, want) {
			t.Errorf("config lacks %q:\n%s", want, c)
		}
	}
}

func TestSharedIsReset(t *testing.T) {
	s := Shared(t)
	if code, body := s.WriteRaw(t, "leftover f=1 1\n"); code != 204 {
		t.Fatalf("raw write: %d %s", code, body)
	}
	s = Shared(t)
	if recs := s.Query(t, `from(bucket:"twitchd/autogen") |> range(start: 0)`); len(recs) != 0 {
		t.Fatalf("Shared did not empty the database: %v", recs)
	}
}

// TestStartIsPrivateAndStopped checks that Start gives a server of its own
// and that the test's cleanup stops it.
func TestStartIsPrivateAndStopped(t *testing.T) {
	var url string
	t.Run("private", func(t *testing.T) {
		s := Start(t)
		url = s.URL
		if url == Shared(t).URL {
			t.Fatalf("Start returned the shared server's URL %s", url)
		}
		if recs := s.Query(t, `from(bucket:"twitchd/autogen") |> range(start: 0)`); len(recs) != 0 {
			t.Fatalf("fresh server has data: %v", recs)
		}
	})
	c := &http.Client{Timeout: time.Second}
	if resp, err := c.Get(url + "/ping"); err == nil {
		resp.Body.Close()
		t.Fatalf("influxd at %s still answers after its test ended", url)
	}
}

// recorder is a testing.TB that records Fatalf and Skip instead of ending
// the real test.
type recorder struct {
	testing.TB
	fatal, skipped string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skip(args ...any) { r.skipped = fmt.Sprint(args...); runtime.Goexit() }
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) SkipNow()        { r.skipped = "SkipNow"; runtime.Goexit() }
func (r *recorder) TempDir() string { return r.TB.TempDir() }

// TestMissingInfluxdFails checks that a missing binary fails the test with
// the install hint rather than skipping it.
func TestMissingInfluxdFails(t *testing.T) {
	t.Setenv("TWITCHD_INFLUXD", filepath.Join(t.TempDir(), "no-such-influxd"))
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(r)
	}()
	<-done
	if r.skipped != "" {
		t.Fatalf("Start skipped (%q); it must fail", r.skipped)
	}
	if !strings.Contains(r.fatal, "influxd not found: run `make influxd`") {
		t.Fatalf("Start failed with %q, want the install hint", r.fatal)
	}
}

// TestPauseStallsRequests checks that a paused server accepts a connection
// but does not answer until resumed.
func TestPauseStallsRequests(t *testing.T) {
	s := Shared(t)
	s.Pause(t)
	c := &http.Client{Timeout: 300 * time.Millisecond}
	resp, err := c.Get(s.URL + "/ping")
	if err == nil {
		resp.Body.Close()
		s.Resume(t)
		t.Fatalf("paused server answered /ping: %s", resp.Status)
	}
	s.Resume(t)
	c.Timeout = 10 * time.Second
	resp, err = c.Get(s.URL + "/ping")
	if err != nil {
		t.Fatalf("resumed server: %v", err)
	}
	resp.Body.Close()
}
