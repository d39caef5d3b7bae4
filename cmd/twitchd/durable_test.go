package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/pseudonym"
	"github.com/twitchd/twitchd/internal/session"
	"github.com/twitchd/twitchd/pipeline"
)

// TestMain keeps every test's spool out of the user's home (the default
// --spool-dir is under XDG_STATE_HOME), and lets the test binary act as
// the twitchd binary when a test starts it with TWITCHD_TEST_MAIN=1, so
// that signals reach a real process.
func TestMain(m *testing.M) {
	if os.Getenv("TWITCHD_TEST_MAIN") == "1" {
		main()
		return
	}
	dir, err := os.MkdirTemp("", "twitchd-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_STATE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// deadURL returns an http URL on which nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

// number returns the integer before what in s, e.g. number(s, " points spooled").
func number(t *testing.T, s, what string) int64 {
	t.Helper()
	m := regexp.MustCompile(`(\d+)` + regexp.QuoteMeta(what)).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %q in:\n%s", what, s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// TestReplaySpoolFull replays into a server that is not there with a
// spool too small for the points, at 60 times real time so that they
// come in several batches: what fits is spooled, the rest is
// counted as given up, nothing is silently lost, and the exit status says
// so.
func TestReplaySpoolFull(t *testing.T) {
	dir := t.TempDir()
	csv := bundled(t, dir)
	t.Setenv("INFLUX_TOKEN", "")
	code, _, stderr := run(t, "replay", "--influx-url", deadURL(t), "--spool-dir", filepath.Join(dir, "spool"),
		"--spool-max", "12KiB", "--influx-retry-time", "100ms", "--speed", "60", csv)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (points lost)\n%s", code, stderr)
	}
	written := number(t, stderr, " points written, ")
	failed := number(t, stderr, " given up")
	spooled := number(t, stderr, " points spooled")
	refused := number(t, stderr, " refused (full)")
	waiting := number(t, stderr, " waiting in ")
	if written != 0 || failed == 0 || spooled == 0 || refused != failed || waiting != spooled {
		t.Fatalf("written %d, given up %d, spooled %d, refused %d, waiting %d:\n%s", written, failed, spooled, refused, waiting, stderr)
	}
	if !strings.Contains(stderr, "spool: full") {
		t.Fatalf("the reason is not named:\n%s", stderr)
	}
	// The spool holds what it said, no more: it is at most 12 KiB.
	var size int64
	filepath.Walk(filepath.Join(dir, "spool"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".seg") {
			size += fi.Size()
		}
		return nil
	})
	if size == 0 || size > 12<<10 {
		t.Fatalf("spool holds %d bytes", size)
	}
}

// fakeInflux is an https stand-in for InfluxDB's write and ping
// endpoints, for the TLS test: it keeps the lines written.
type fakeInflux struct {
	mu    sync.Mutex
	lines []string
}

func (f *fakeInflux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/ping":
		w.WriteHeader(http.StatusNoContent)
	case "/api/v2/write":
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.lines = append(f.lines, strings.Split(strings.TrimSpace(string(b)), "\n")...)
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeInflux) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.lines)
}

// TestInfluxTLS checks that certificates are verified by default and
// that --influx-ca trusts a private CA, and that the token appears
// nowhere in the output, diagnostics included.
func TestInfluxTLS(t *testing.T) {
	fake := &fakeInflux{}
	srv := httptest.NewUnstartedServer(fake)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	csv := bundled(t, dir)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	const token = "tok-3f9a1c77e2d84b5e"
	t.Setenv("INFLUX_TOKEN", token)
	cases := []struct {
		name    string
		args    []string
		code    int
		written bool
		want    string
	}{
		{"private CA trusted", []string{"--influx-ca", ca}, 0, true, "0 failed"},
		{"unknown CA refused", nil, 1, false, "certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := fake.count()
			args := append([]string{"replay", "-v", "--influx-url", srv.URL, "--spool-dir", "", "--influx-retry-time", "100ms"}, c.args...)
			code, stdout, stderr := run(t, append(args, csv)...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, want %d and %q:\n%s", code, c.code, c.want, stderr)
			}
			if got := fake.count() > before; got != c.written {
				t.Fatalf("points reached the server: %v, want %v", got, c.written)
			}
			if strings.Contains(stderr, token) || strings.Contains(stdout, token) {
				t.Fatalf("the token was printed:\n%s", stderr)
			}
		})
	}
}

func TestPseudonymise(t *testing.T) {
	dir := t.TempDir()
	csv := bundled(t, dir)
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("short"), 0o600)
	k, _ := pseudonym.Load(key)
	want := k.Subject("alice")
	t.Setenv("INFLUX_URL", "")
	ev := filepath.Join(dir, "ev.jsonl")
	code, _, stderr := run(t, "replay", "--subject", "alice", "--pseudonymise-key-file", key, "--events", ev, csv)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	raw, _ := os.ReadFile(ev)
	if bytes.Contains(raw, []byte("alice")) {
		t.Fatal("the subject's name is in the events file")
	}
	for _, e := range readEvents(t, ev) {
		if s, ok := e.(*pipeline.Summary); ok && s.Subject != want {
			t.Fatalf("summary subject %q, want %q", s.Subject, want)
		}
	}
	if code, _, stderr := run(t, "replay", "--subject", "alice", "--pseudonymise-key-file", short, csv); code != 1 || !strings.Contains(stderr, "at least 16 bytes") {
		t.Fatalf("short key: exit %d\n%s", code, stderr)
	}
}

// TestReplayHealthEndpoints replays at 20 times real time with --listen
// and reads /healthz and /metrics over HTTP while it runs.
func TestReplayHealthEndpoints(t *testing.T) {
	dir := t.TempDir()
	csv := bundled(t, dir)
	t.Setenv("INFLUX_URL", "")
	if code, _, stderr := run(t, "replay", "--listen", "0.0.0.0:0", csv); code != 2 || !strings.Contains(stderr, "not a loopback address") {
		t.Fatalf("non-loopback listen: exit %d\n%s", code, stderr)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		var o bytes.Buffer
		done <- runMain(ctx, []string{"replay", "--listen", addr, "--speed", "20", csv}, &o, &stderr)
	}()
	c := &http.Client{Timeout: 2 * time.Second}
	var health, metrics string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := c.Get("http://" + addr + "/healthz")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		health = fmt.Sprintf("%d %s", resp.StatusCode, b)
		if resp.StatusCode != 200 {
			continue
		}
		resp, err = c.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		metrics = string(b)
		if number(t, metrics, "") > 0 && strings.Contains(metrics, `twitchd_events_total{type="epoch"} `) &&
			!strings.Contains(metrics, `twitchd_events_total{type="epoch"} 0`) {
			break
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("replay exit %d\n%s", code, stderr.String())
	}
	if health != "200 ok\n" {
		t.Fatalf("/healthz never healthy, last %q", health)
	}
	for _, want := range []string{
		"# TYPE twitchd_samples_read_total counter\n",
		"# HELP twitchd_lines_skipped_total ",
		"twitchd_samples_lost_total 0\n",
		`twitchd_events_total{type="twitch"} `,
	} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	if n := number(t, metrics[strings.Index(metrics, "twitchd_samples_read_total "):], "\n"); n < 1000 {
		t.Fatalf("samples read %d:\n%s", n, metrics)
	}
}

// panicky is a Source whose decoder panics after one batch, as a decoder
// bug on bad input would.
type panicky struct{ n int }

func (p *panicky) Meta() pipeline.Meta {
	return pipeline.Meta{File: "bad.csv", Format: "csv", Channels: []pipeline.Channel{{Name: "emg", Kind: pipeline.KindEMG, Unit: "mV", RateHz: 1000}}}
}

func (p *panicky) Next(_ context.Context, b *pipeline.Batch) error {
	b.Reset()
	p.n++
	if p.n > 1 {
		var idx []int
		_ = idx[p.n] // index out of range
	}
	for i := 0; i < 10; i++ {
		b.Append(int64(i) * 1e6)[0] = 0.01
	}
	return nil
}

func (p *panicky) Stats() pipeline.SourceStats { return pipeline.SourceStats{} }

func TestDecoderPanicBecomesError(t *testing.T) {
	m := newMetrics()
	res, err := session.Run(context.Background(), m.source(&panicky{}), session.Config{Subject: "x"})
	if err == nil || !strings.Contains(err.Error(), "internal error in the csv decoder") || !strings.Contains(err.Error(), "index out of range") {
		t.Fatalf("err %v", err)
	}
	if res.Summary.File != "bad.csv" || m.samples.Load() != 10 {
		t.Fatalf("summary %+v, %d samples counted", res.Summary, m.samples.Load())
	}
}
