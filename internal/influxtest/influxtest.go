// Package influxtest runs a private InfluxDB OSS 1.8 server for a test.
//
// Start writes a config into t.TempDir() (meta, data and wal there, HTTP
// and the RPC bind address on free loopback ports, Flux enabled, logging
// quiet, reporting and the _internal monitor store off), starts influxd,
// waits for /ping, creates the database "twitchd" and stops the server in
// t.Cleanup. The test talks to it through influxdb-client-go exactly as
// twitchd does: bucket "twitchd/autogen", any org, no token.
//
// The binary is found in this order: $TWITCHD_INFLUXD, then
// <module root>/.tools/bin/influxd (what `make influxd` installs), then
// PATH. A missing binary fails the test: the InfluxDB tests are the
// boundary tests of the sink and must not pass by being skipped.
//
// Start-up costs about 3 s of CPU (more on a loaded machine), nearly all
// of it Flux compiling its built-in packages when the HTTP service opens;
// the empty data directory, the disabled monitor store and the quiet logs
// add next to nothing. So a package whose tests can share a server uses
// Shared (one server per test binary, emptied between tests, stopped by
// Main from TestMain) and keeps Start for tests that need their own.
package influxtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
)

// Database is the database every Server creates; Bucket is its default
// retention policy in the 2.x bucket notation.
const (
	Database = "twitchd"
	Bucket   = Database + "/autogen"
)

// Timeouts used by Start, Stop and Restart.
const (
	startTimeout = 60 * time.Second // until /ping answers (Flux start-up is slow on a loaded machine)
	stopGrace    = 5 * time.Second  // after SIGTERM, before SIGKILL
)

// Server is one running influxd owned by a test.
type Server struct {
	// URL is the HTTP endpoint, e.g. "http://127.0.0.1:41234".
	URL string
	// Bucket is "twitchd/autogen".
	Bucket string
	// Org is passed to the client; InfluxDB 1.8 ignores it.
	Org string
	// Dir holds the config, the data and influxd.log.
	Dir string
	// Admin is "user:password" of the admin user when the server was
	// started with authentication (StartAuth), empty otherwise.
	Admin string

	bin, conf, logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	client influxdb2.Client
}

// Start starts a private influxd and registers its shutdown with
// t.Cleanup. It fails the test when influxd is missing or does not start.
func Start(t testing.TB) *Server {
	t.Helper()
	s := launch(t, t.TempDir())
	t.Cleanup(s.shutdown)
	return s
}

// StartWith is Start with the configuration (see Config) passed through
// edit before influxd reads it, e.g. to add a setting to [data].
func StartWith(t testing.TB, edit func(conf string) string) *Server {
	t.Helper()
	s := launchEdit(t, t.TempDir(), false, edit)
	t.Cleanup(s.shutdown)
	return s
}

// Pid returns the process id of the running influxd, 0 when it is not
// running (to read its CPU time and memory from /proc).
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// AdminUser and AdminPassword are the admin StartAuth creates.
const (
	AdminUser     = "admin"
	AdminPassword = "twitchd-test"
)

// StartAuth is Start with authentication enabled: it creates the admin
// user AdminUser (every privilege) before the database, and the Server's
// own requests (Exec, Query) authenticate as it. Writes with another
// token get 401, as from a misconfigured collector.
func StartAuth(t testing.TB) *Server {
	t.Helper()
	s := launchWith(t, t.TempDir(), true)
	t.Cleanup(s.shutdown)
	return s
}

var shared struct {
	mu  sync.Mutex
	srv *Server
	dir string
}

// Shared returns one server for the whole test binary, starting it on
// first use, with the database emptied by Reset. It saves the start-up
// (about 3 s of CPU, nearly all of it Flux compiling its built-in
// packages) for every test after the first. Tests that use it must not
// run in parallel with each other; they may Stop, Kill and Restart it as
// long as they leave it running. The package's TestMain must call Main so
// that the server is stopped and its directory removed.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv == nil {
		dir, err := os.MkdirTemp("", "influxtest-")
		if err != nil {
			t.Fatalf("influxtest: %v", err)
		}
		ok := false
		defer func() {
			if !ok { // launch failed the test: leave nothing behind
				os.RemoveAll(dir)
			}
		}()
		shared.dir = dir
		shared.srv = launch(t, dir)
		ok = true
	} else {
		shared.srv.ensureRunning(t)
		shared.srv.Reset(t)
	}
	return shared.srv
}

// Main runs the tests of a package that uses Shared and then stops the
// shared server: call it from TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain with its own clean-up: it
// returns m.Run's exit code.
func Run(m *testing.M) int {
	code := m.Run()
	shared.mu.Lock()
	if shared.srv != nil {
		shared.srv.shutdown()
		os.RemoveAll(shared.dir)
	}
	shared.mu.Unlock()
	return code
}

// launch starts influxd with its files in dir and creates the database.
func launch(t testing.TB, dir string) *Server {
	t.Helper()
	return launchWith(t, dir, false)
}

// launchWith is launch, with authentication enabled when auth is set.
func launchWith(t testing.TB, dir string, auth bool) *Server {
	t.Helper()
	return launchEdit(t, dir, auth, nil)
}

// launchEdit is launchWith, the configuration passed through edit if set.
func launchEdit(t testing.TB, dir string, auth bool, edit func(string) string) *Server {
	t.Helper()
	bin, err := findInfluxd()
	if err != nil {
		t.Fatalf("influxd not found: run `make influxd` (installs InfluxDB OSS 1.8.10 into .tools/bin): %v", err)
	}
	httpPort, rpcPort := freePort(t), freePort(t)
	s := &Server{
		URL:     fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		Bucket:  Bucket,
		Org:     "twitchd",
		Dir:     dir,
		bin:     bin,
		conf:    filepath.Join(dir, "influxd.conf"),
		logPath: filepath.Join(dir, "influxd.log"),
	}
	conf := Config(dir, httpPort, rpcPort)
	if auth {
		conf = strings.Replace(conf, "auth-enabled = false", "auth-enabled = true", 1)
	}
	if edit != nil {
		conf = edit(conf)
	}
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		t.Fatalf("influxtest: write config: %v", err)
	}
	s.start(t)
	if auth {
		// Allowed without credentials while the server has no admin.
		s.Exec(t, fmt.Sprintf("CREATE USER %s WITH PASSWORD '%s' WITH ALL PRIVILEGES", AdminUser, AdminPassword))
		s.Admin = AdminUser + ":" + AdminPassword
	}
	s.Exec(t, "CREATE DATABASE "+Database)
	return s
}

// shutdown closes the client and stops influxd, for cleanups.
func (s *Server) shutdown() {
	s.mu.Lock()
	if s.client != nil {
		s.client.Close()
		s.client = nil
	}
	s.mu.Unlock()
	s.stop(syscall.SIGTERM)
}

// Reset drops the database and creates it again, empty.
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	s.Exec(t, "DROP DATABASE "+Database)
	s.Exec(t, "CREATE DATABASE "+Database)
}

// ensureRunning starts the server if a test left it stopped, and resumes
// it if a test left it paused.
func (s *Server) ensureRunning(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	running := s.cmd != nil
	if running {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
	}
	s.mu.Unlock()
	if !running {
		s.start(t)
	}
}

// Config returns the influxd configuration Start writes: everything under
// dir, HTTP on 127.0.0.1:httpPort with Flux on, the RPC service on
// 127.0.0.1:rpcPort, and nothing logged below warnings.
func Config(dir string, httpPort, rpcPort int) string {
	q := func(p string) string { return fmt.Sprintf("%q", filepath.Join(dir, p)) }
	return fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"

[meta]
  dir = %s
  logging-enabled = false

[data]
  dir = %s
  wal-dir = %s
  query-log-enabled = false
  trace-logging-enabled = false

[http]
  bind-address = "127.0.0.1:%d"
  flux-enabled = true
  flux-log-enabled = false
  log-enabled = false
  auth-enabled = false
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false
  log-enabled = false
`, rpcPort, q("meta"), q("data"), q("wal"), httpPort)
}

// Client returns a client for the server, created on first use and closed
// in the test's cleanup. Its log level is 0 so it prints nothing.
func (s *Server) Client() influxdb2.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		s.client = influxdb2.NewClientWithOptions(s.URL, s.Admin, influxdb2.DefaultOptions().SetLogLevel(0))
	}
	return s.client
}

// Query runs a Flux query through the client's QueryAPI and returns every
// record's values (columns by name, "_time" as time.Time, "_value" typed
// as stored), tables one after the other. It fails the test on error.
func (s *Server) Query(t testing.TB, flux string) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.Client().QueryAPI(s.Org).Query(ctx, flux)
	if err != nil {
		t.Fatalf("influxtest: query %q: %v", flux, err)
	}
	defer res.Close()
	var out []map[string]any
	for res.Next() {
		rec := make(map[string]any, len(res.Record().Values()))
		for k, v := range res.Record().Values() {
			rec[k] = v
		}
		out = append(out, rec)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("influxtest: query %q: %v", flux, err)
	}
	return out
}

// Stop stops the server gracefully (SIGTERM, SIGKILL after a few
// seconds); its data directory and port stay reserved for Restart.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.stop(syscall.SIGTERM) {
		t.Logf("influxtest: influxd did not stop within %v of SIGTERM; killed it", stopGrace)
	}
}

// Kill stops the server with SIGKILL, as a crash would.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	s.stop(syscall.SIGKILL)
}

// Pause stops influxd with SIGSTOP: connections are still accepted by
// the kernel but nothing answers, as with a stalled server. Resume ends it.
func (s *Server) Pause(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGSTOP)
}

// Resume continues a paused influxd with SIGCONT.
func (s *Server) Resume(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGCONT)
}

func (s *Server) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		t.Fatalf("influxtest: %v: influxd is not running", sig)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("influxtest: %v: %v", sig, err)
	}
	waitState(s.cmd.Process.Pid, sig == syscall.SIGSTOP)
}

// Restart starts the server again on the same port with the same data,
// stopping it first if it runs.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop(t)
	s.start(t)
}

// PID returns the process id of the running influxd, 0 when stopped, for
// measuring its memory and CPU.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// LogTail returns the last n lines influxd wrote.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		t.Fatalf("influxtest: start: influxd already running")
	}
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("influxtest: %v", err)
	}
	cmd := exec.Command(s.bin, "run", "-config", s.conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("influxtest: start %s: %v", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	if err := waitPing(s.URL, exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		s.cmd = nil
		t.Fatalf("influxtest: influxd at %s: %v\nlast lines of %s:\n%s", s.URL, err, s.logPath, s.LogTail(20))
	}
}

// stop signals influxd and waits for it to exit, killing it if it has
// not within stopGrace. It reports whether it had to kill it.
func (s *Server) stop(sig syscall.Signal) (killed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return false
	}
	_ = s.cmd.Process.Signal(sig)
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // in case it was paused
	select {
	case <-s.exited:
	case <-time.After(stopGrace):
		_ = s.cmd.Process.Kill()
		<-s.exited
		killed = sig != syscall.SIGKILL
	}
	s.cmd = nil
	return killed
}

// Exec runs an InfluxQL statement through the 1.x /query endpoint, for
// what the 2.x API of 1.8 cannot do (creating and dropping the database).
// It fails the test when the statement fails.
func (s *Server) Exec(t testing.TB, stmt string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/query", strings.NewReader(url.Values{"q": {stmt}}.Encode()))
	if err != nil {
		t.Fatalf("influxtest: %s: %v", stmt, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user, pw, ok := strings.Cut(s.Admin, ":"); ok {
		req.SetBasicAuth(user, pw)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("influxtest: %s: %v", stmt, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte(`"error"`)) {
		t.Fatalf("influxtest: %s: %s: %s", stmt, resp.Status, body)
	}
}

// WriteRaw posts line protocol to the 1.x /write endpoint, bypassing the
// sink, so a test can set up a schema conflict. It returns the status and
// the response body.
func (s *Server) WriteRaw(t testing.TB, lines string) (int, string) {
	t.Helper()
	resp, err := httpClient.Post(s.URL+"/write?db="+Database, "text/plain", strings.NewReader(lines))
	if err != nil {
		t.Fatalf("influxtest: raw write: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// cleanEnv is the environment without INFLUXDB_* variables, which influxd
// would apply over the config.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "INFLUXDB_") {
			env = append(env, kv)
		}
	}
	return env
}

func waitPing(base string, exited <-chan struct{}) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := c.Get(base + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("influxd exited during startup")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer to /ping within %v (last error: %v)", startTimeout, err)
		}
	}
}

// httpClient bounds the requests influxtest makes itself.
var httpClient = &http.Client{Timeout: 30 * time.Second}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("influxtest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func findInfluxd() (string, error) {
	if p := os.Getenv("TWITCHD_INFLUXD"); p != "" {
		if isExec(p) {
			return p, nil
		}
		return "", fmt.Errorf("$TWITCHD_INFLUXD=%s is not an executable file", p)
	}
	if root, err := moduleRoot(); err == nil {
		p := filepath.Join(root, ".tools", "bin", "influxd")
		if isExec(p) {
			return p, nil
		}
	}
	return exec.LookPath("influxd")
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// moduleRoot walks up from the working directory to the directory
// holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
