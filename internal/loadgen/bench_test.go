package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/dashboards"
	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/influxsetup"
	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/rule/history"
	"github.com/twitchd/twitchd/internal/rule/report"
	"github.com/twitchd/twitchd/internal/schema"
)

// TestHistoryBench measures history at scale (make history-bench): for
// each S in $TWITCHD_HISTORY_BENCH (e.g. "10,100,1000"), S subjects x
// $TWITCHD_HISTORY_DAYS days (default 365) of history with
// $TWITCHD_HISTORY_TWITCHES twitches a session (default 20) in a private
// influxd 1.8.10, then the series cardinality, the disk use of its
// directory, its RSS, and the times of subject 0's history read (the
// rule's query at the start of a recording), report (14 days) and every
// dashboard query (30 days and 1 year). The subjects of a smaller S are
// kept and more are added, so subject 0's own history is the same at
// every S. It reports and checks correctness, never times; without the
// variable it is skipped (make test does not run it).
func TestHistoryBench(t *testing.T) {
	sizes := os.Getenv("TWITCHD_HISTORY_BENCH")
	if sizes == "" {
		t.Skip("set TWITCHD_HISTORY_BENCH=10,100,1000 to run (make history-bench)")
	}
	envInt := func(k string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
			return v
		}
		return def
	}
	days := envInt("TWITCHD_HISTORY_DAYS", 365)
	twitches := envInt("TWITCHD_HISTORY_TWITCHES", 20)
	rawDays := envInt("TWITCHD_HISTORY_RAW_DAYS", 7)
	// Subjects from $TWITCHD_HISTORY_LIGHT_FROM on (default: none) get a
	// lighter history, when a loaded machine cannot write the full one in
	// the time there is: $TWITCHD_HISTORY_LIGHT_TWITCHES twitches a session
	// (default 2) and raw activity for $TWITCHD_HISTORY_LIGHT_RAW_DAYS days
	// (default 1). Subject 0, whose reads are timed, is never light.
	lightFrom := envInt("TWITCHD_HISTORY_LIGHT_FROM", math.MaxInt)
	lightTwitches := envInt("TWITCHD_HISTORY_LIGHT_TWITCHES", 2)
	lightRaw := envInt("TWITCHD_HISTORY_LIGHT_RAW_DAYS", 1)
	srv := influxtest.Start(t)
	benchPID = srv.PID()
	ctx := context.Background()
	conn, err := influxconn.Open(influxconn.Settings{URL: srv.URL, Org: srv.Org, Bucket: srv.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := influxsetup.Setup(ctx, conn, influxsetup.Options{Database: influxtest.Database}, io.Discard); err != nil {
		t.Fatal(err)
	}
	end := time.Now().UTC().Truncate(24 * time.Hour)
	var out bytes.Buffer
	logf := func(format string, args ...any) {
		fmt.Fprintf(&out, format, args...)
		fmt.Fprintf(os.Stderr, format, args...)
	}
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		logf("load average at the start: %s", l)
	}
	logf("history bench: %d days, %d twitches a session (%d points), raw activity for the last %d days, on %s\n",
		days, twitches, 2*twitches, rawDays, srv.URL)
	done := 0
	for _, f := range strings.Split(sizes, ",") {
		s, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || s <= done {
			t.Fatalf("TWITCHD_HISTORY_BENCH: %q: want increasing numbers of subjects", sizes)
		}
		specs := []Spec{{From: done, To: min(s, max(lightFrom, done)), Days: days, End: end, RawDays: rawDays, Twitches: twitches},
			{From: max(lightFrom, done), To: s, Days: days, End: end, RawDays: lightRaw, Twitches: lightTwitches}}
		for _, spec := range specs {
			if spec.To <= spec.From {
				continue
			}
			w := NewWriter(srv.URL, influxtest.Database, "", 2)
			start := time.Now()
			c, err := Generate(ctx, spec, w.Write)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatalf("S=%d: %v", s, err)
			}
			took := time.Since(start)
			logf("\nS=%d: wrote subjects %d..%d (%d twitches a session, raw activity %d days): %d event points, %d raw and %d hourly activity points in %v (%.0f points/s)\n",
				s, spec.From, spec.To-1, spec.Twitches, spec.RawDays, c.Events, c.Raw, c.Hourly, took.Round(time.Second),
				float64(c.Events+c.Raw+c.Hourly)/took.Seconds())
		}
		done = s
		idle := waitIdle(srv.PID(), 15*time.Minute)
		logf("influxd idle (compactions done) after %v\n", idle.Round(time.Second))
		if l, err := os.ReadFile("/proc/loadavg"); err == nil {
			logf("load average: %s", l)
		}
		m := measure(t, ctx, srv, conn, Spec{From: 0, To: s, Days: days, End: end, RawDays: rawDays, Twitches: twitches})
		logf("%s", m)
	}
	if p := os.Getenv("TWITCHD_HISTORY_OUT"); p != "" {
		if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// measure reports the size of what srv holds and the query times for
// subject 0 of spec.
func measure(t *testing.T, ctx context.Context, srv *influxtest.Server, conn *influxconn.Conn, spec Spec) string {
	t.Helper()
	var b strings.Builder
	series, err := SeriesCardinality(ctx, conn, influxtest.Database)
	if err != nil {
		t.Fatal(err)
	}
	rss, hwm := procMem(srv.PID())
	fmt.Fprintf(&b, "series %d (%.1f per subject); disk %.1f MiB (%.2f MiB per subject); influxd RSS %.0f MiB (peak %.0f MiB)\n",
		series, float64(series)/float64(spec.To), float64(dirSize(srv.Dir))/(1<<20), float64(dirSize(srv.Dir))/(1<<20)/float64(spec.To),
		float64(rss)/(1<<20), float64(hwm)/(1<<20))

	cfg := rule.DefaultConfig()
	cfg.HistoryTimeout = 5 * time.Minute
	r := history.NewReader(conn.Query(), conn.Bucket()).For(cfg)
	who := Subject(0)
	site := spec.withDefaults().Site
	var past rule.Past
	load := timeIt(func() error {
		var err error
		past, err = r.Load(ctx, rule.Query{Subject: who, Site: site, Start: spec.End.Add(-cfg.Lookback()), End: spec.End})
		return err
	})
	if load.err != nil {
		t.Fatalf("history read: %v", load.err)
	}
	if len(past.Bouts) != 2*min(spec.Days, 28) {
		t.Errorf("history read: %d bouts, want %d (two a day within 28 days)", len(past.Bouts), 2*min(spec.Days, 28))
	}
	fmt.Fprintf(&b, "| query (subject %s) | first | median of 5 | influxd CPU per run |\n|---|---|---|---|\n", who)
	fmt.Fprintf(&b, "| history read (rule, start of a recording: %d bouts, %d episode windows, %d finals) | %s | %s | %s |\n",
		len(past.Bouts), len(past.Episodes), len(past.Finals), ms(load.first), ms(load.median), ms(load.cpu))
	var rep *report.Report
	rt := timeIt(func() error {
		var err error
		rep, err = report.Build(ctx, r, report.Options{Subject: who, Since: spec.End.AddDate(0, 0, -14), Until: spec.End, Config: cfg})
		return err
	})
	if rt.err != nil {
		t.Fatalf("report: %v", rt.err)
	}
	sessions := 0
	for _, s := range rep.Sites {
		sessions += len(s.Sessions)
	}
	fmt.Fprintf(&b, "| report --since 14d (%d sessions) | %s | %s | %s |\n", sessions, ms(rt.first), ms(rt.median), ms(rt.cpu))
	d := dashboards.NewWith(conn.Bucket(), dashboards.DefaultActivityBuckets(conn.Bucket(), influxtest.Database+"/"+schema.RPActivityRaw))
	for _, rg := range []struct {
		name   string
		back   time.Duration
		window time.Duration
	}{{"30 d", 30 * 24 * time.Hour, time.Hour}, {"1 y", 365 * 24 * time.Hour, 24 * time.Hour}} {
		v := dashboards.Vars{Start: spec.End.Add(-rg.back), Stop: spec.End, Window: rg.window, Subject: who, Site: site}
		for _, p := range d.Panels {
			for i, q := range []string{p.Flux, p.Markers} {
				if q == "" {
					continue
				}
				name := p.ID
				if i == 1 {
					name += " (markers)"
				}
				rows := 0
				qt := timeIt(func() error {
					res, err := conn.Query().Query(ctx, dashboards.WithVars(q, v))
					if err != nil {
						return err
					}
					defer res.Close()
					rows = 0
					for res.Next() {
						rows++
					}
					return res.Err()
				})
				if qt.err != nil {
					t.Errorf("dashboard %s over %s: %v", name, rg.name, qt.err)
					continue
				}
				fmt.Fprintf(&b, "| dashboard %s, %s (%d rows) | %s | %s | %s |\n", name, rg.name, rows, ms(qt.first), ms(qt.median), ms(qt.cpu))
			}
		}
	}
	return b.String()
}

type timing struct {
	first, median time.Duration
	// cpu is influxd's CPU time (user and system) per run, over the five
	// runs after the first: less sensitive than wall time to other
	// processes on a shared machine.
	cpu time.Duration
	err error
}

// benchPID is the influxd whose CPU timeIt counts (0: none).
var benchPID int

// timeIt runs fn six times: the first run, and the median of the other five.
func timeIt(fn func() error) timing {
	var ts []time.Duration
	var ticks int64
	for i := 0; i < 6; i++ {
		if i == 1 {
			ticks = cpuTicks(benchPID)
		}
		start := time.Now()
		if err := fn(); err != nil {
			return timing{err: err}
		}
		ts = append(ts, time.Since(start))
	}
	cpu := time.Duration(cpuTicks(benchPID)-ticks) * 10 * time.Millisecond / 5 // 100 ticks a second
	rest := append([]time.Duration(nil), ts[1:]...)
	sort.Slice(rest, func(i, j int) bool { return rest[i] < rest[j] })
	return timing{first: ts[0], median: rest[len(rest)/2], cpu: cpu}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/1e6) }

// dirSize is what du -s would say, near enough: the sizes of the files.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// procMem returns VmRSS and VmHWM of pid in bytes.
func procMem(pid int) (rss, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "VmRSS:":
				rss = v << 10
			case "VmHWM:":
				hwm = v << 10
			}
		}
	}
	return rss, hwm
}

// cpuTicks returns the user and system clock ticks pid has used.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

// waitIdle waits until pid uses under 5% of a core over 10 s (its
// compactions done), at most limit, and returns how long it waited.
func waitIdle(pid int, limit time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < limit {
		a := cpuTicks(pid)
		time.Sleep(10 * time.Second)
		if cpuTicks(pid)-a < 50 { // 100 ticks a second: 50 in 10 s is 5% of a core
			break
		}
	}
	return time.Since(start)
}
