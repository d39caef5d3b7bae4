package ingest

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"github.com/twitchd/twitchd/internal/influxconn"
	"io"
	"log"
	"log/slog"
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

	"github.com/twitchd/twitchd/internal/health"
	"github.com/twitchd/twitchd/internal/pseudonym"
	"github.com/twitchd/twitchd/internal/session"
	"github.com/twitchd/twitchd/internal/testutil/recording"
	"github.com/twitchd/twitchd/pipeline"
)

// TestMain lets the test binary act as a process that does one live
// ingest run, when a test starts it with childEnv set, so that signals
// (SIGTERM, SIGKILL) reach a real process; see child in fault_test.go.
// The tests talk to their own influxd without a token: none may come
// from the environment. Most of them wait on real time (a live device,
// an outage) and take little CPU, so they run in parallel, eight at a
// time unless -parallel says otherwise.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(child())
	}
	os.Unsetenv(influxconn.TokenEnv)
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "8")
	}
	os.Exit(m.Run())
}

// replayConfig returns a Config that replays the files without InfluxDB.
func replayConfig(paths ...string) Config {
	cfg := Defaults()
	for _, p := range paths {
		cfg.Files = append(cfg.Files, File{Path: p})
	}
	return cfg
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

// TestReplaySpoolFull replays into a server that is not there with a
// spool too small for the points, at 60 times real time so that they
// come in several batches: what fits is spooled, the rest is counted as
// given up, nothing is silently lost, and the result says so.
func TestReplaySpoolFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var logs bytes.Buffer
	cfg := replayConfig(recording.Bundled(t, dir))
	cfg.Influx.URL = deadURL(t)
	cfg.Spool.Root, cfg.Spool.MaxBytes = filepath.Join(dir, "spool"), 12<<10
	cfg.RetryTime, cfg.Speed = 100*time.Millisecond, 60
	cfg.Spool.ServerWait = time.Second // the server is not coming back
	cfg.Log = slog.New(slog.NewTextHandler(&logs, nil))
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	in, sp := res.Influx, res.Spool
	if in.Written != 0 || in.Failed == 0 || sp.Spooled == 0 || sp.Refused != in.Failed || sp.Pending != sp.Spooled {
		t.Fatalf("written %d, given up %d, spooled %d, refused %d, waiting %d", in.Written, in.Failed, sp.Spooled, sp.Refused, sp.Pending)
	}
	if err := res.LostError(); err == nil || !strings.Contains(err.Error(), "points did not reach InfluxDB") {
		t.Fatalf("lost points not reported: %v", err)
	}
	if sr := res.Streams[0]; sr.FirstSinkError == nil || !strings.Contains(sr.FirstSinkError.Error(), "spool: full") {
		t.Fatalf("the reason is not named: %v", sr.FirstSinkError)
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
// that a CA file trusts a private CA, and that the token appears nowhere
// in the logs (debug level included) or errors.
func TestInfluxTLS(t *testing.T) {
	t.Parallel()
	fake := &fakeInflux{}
	srv := httptest.NewUnstartedServer(fake)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	csv := recording.Bundled(t, dir)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	const token = "tok-3f9a1c77e2d84b5e"
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		ca      string
		written bool
		want    string
	}{
		{"private CA trusted", ca, true, ""},
		{"unknown CA refused", "", false, "certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := fake.count()
			var logs bytes.Buffer
			cfg := replayConfig(csv)
			cfg.Influx.URL, cfg.Influx.CAFile, cfg.Influx.TokenFile = srv.URL, c.ca, tokenFile
			cfg.RetryTime = 100 * time.Millisecond
			cfg.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			res, err := Run(context.Background(), cfg)
			if err != nil && c.want == "" {
				t.Fatal(err)
			}
			msg := fmt.Sprint(err, res.LostError(), logs.String())
			if c.want != "" && !strings.Contains(msg, c.want) {
				t.Fatalf("no %q in the errors or logs:\n%s", c.want, msg)
			}
			if c.want == "" && (res.LostError() != nil || res.Influx.Written == 0) {
				t.Fatalf("influx %+v", res.Influx)
			}
			if got := fake.count() > before; got != c.written {
				t.Fatalf("points reached the server: %v, want %v", got, c.written)
			}
			if strings.Contains(msg, token) {
				t.Fatalf("the token was logged:\n%s", msg)
			}
		})
	}
}

// TestPseudonymise replays with a key: neither the events file nor the
// summary holds the name; a key that is too short is refused.
func TestPseudonymise(t *testing.T) {
	dir := t.TempDir()
	csv := recording.Bundled(t, dir)
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("short"), 0o600)
	k, err := pseudonym.Load(key)
	if err != nil {
		t.Fatal(err)
	}
	want := k.Subject("alice")
	ev := filepath.Join(dir, "ev.jsonl")
	cfg := replayConfig(csv)
	cfg.Subject, cfg.Influx.PseudonymKeyFile, cfg.Events = "alice", key, ev
	res, err := Run(context.Background(), cfg)
	if err != nil || res.Failed() > 0 {
		t.Fatalf("run: %v, %+v", err, res)
	}
	raw, _ := os.ReadFile(ev)
	if bytes.Contains(raw, []byte("alice")) {
		t.Fatal("the subject's name is in the events file")
	}
	for _, e := range recording.ReadEvents(t, ev) {
		if s, ok := e.(*pipeline.Summary); ok && s.Subject != want {
			t.Fatalf("summary subject %q, want %q", s.Subject, want)
		}
	}
	cfg.Influx.PseudonymKeyFile = short
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "at least 16 bytes") {
		t.Fatalf("short key: %v", err)
	}
}

// TestHealthEndpoints replays at 20 times real time while serving
// /healthz and /metrics, and reads both over HTTP while it runs.
func TestHealthEndpoints(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := replayConfig(recording.Bundled(t, dir))
	cfg.Health.Addr = "0.0.0.0:0"
	if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrHealth) || !errors.Is(err, health.ErrNotLoopback) {
		t.Fatalf("non-loopback address: %v", err)
	}
	addr := freeAddr(t)
	cfg.Health.Addr, cfg.Speed = addr, 20
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := Run(ctx, cfg)
		done <- outcome{res, err}
	}()
	c := &http.Client{Timeout: 2 * time.Second}
	var healthz, metrics string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		code, body := get(c, "http://"+addr+"/healthz")
		healthz = fmt.Sprintf("%d %s", code, body)
		if code != 200 {
			continue
		}
		_, metrics = get(c, "http://"+addr+"/metrics")
		if strings.Contains(metrics, `twitchd_events_total{type="epoch"} `) && !strings.Contains(metrics, `twitchd_events_total{type="epoch"} 0`) {
			break
		}
	}
	cancel()
	if o := <-done; o.err != nil || !o.res.Streams[0].Summary.Interrupted {
		t.Fatalf("replay: %v, %+v", o.err, o.res)
	}
	if healthz != "200 ok\n" {
		t.Fatalf("/healthz never healthy, last %q", healthz)
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
	var n int64
	if m := regexp.MustCompile(`\ntwitchd_samples_read_total (\d+)\n`).FindStringSubmatch(metrics); m != nil {
		n, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if n < 1000 {
		t.Fatalf("samples read %d:\n%s", n, metrics)
	}
}

// get returns the status and body of url, 0 when it does not answer.
func get(c *http.Client, url string) (int, string) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
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
	m := newMeter()
	res, err := session.Run(context.Background(), m.source(&panicky{}), session.Config{Subject: "x"})
	var pe *PanicError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "internal error in the csv decoder") || !strings.Contains(err.Error(), "index out of range") {
		t.Fatalf("err %v", err)
	}
	if res.Summary.File != "bad.csv" || m.samples.Load() != 10 {
		t.Fatalf("summary %+v, %d samples counted", res.Summary, m.samples.Load())
	}
}
