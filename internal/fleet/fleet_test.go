package fleet

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/schema"
	"github.com/twitchd/twitchd/internal/simulate/device"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/internal/testutil/recording"
	"github.com/twitchd/twitchd/internal/testutil/standin"
	"github.com/twitchd/twitchd/pipeline"
)

// The fleet benchmark's settings, from the environment.
const (
	envDevices = "TWITCHD_FLEET_DEVICES"    // comma-separated fleet sizes (default 2)
	envSeconds = "TWITCHD_FLEET_SECONDS"    // measured window per size (default 20)
	envBin     = "TWITCHD_FLEET_BIN"        // the twitchd binary (default: built into a temp dir)
	envOut     = "TWITCHD_FLEET_OUT"        // a file for the table (default: only the test log)
	envTick    = "TWITCHD_FLEET_TICK"       // how often a stand-in writes (default 2ms; 16ms: an FTDI adapter)
	envDays    = "TWITCHD_FLEET_DAYS"       // days of one device's points to store for the storage estimate (default 0: none)
	envProcs   = "TWITCHD_FLEET_GOMAXPROCS" // GOMAXPROCS of the twitchd processes (default: the Go default)
	envOneProc = "TWITCHD_FLEET_ONEPROC"    // 1: one "twitchd run --device all" for every device
)

// settle is how long the fleet runs after every device is healthy before
// the window opens: the first epochs, the history read and the first
// writes are behind it then.
const settle = 10 * time.Second

// TestFleet runs a fleet of live devices on this host, as a service
// manager would: one BITalino stand-in (1 kHz EMG on A1 and a 3-axis
// accelerometer on A2–A4, every channel at 1 kHz) per pseudo-terminal,
// each played from its own point of the bundled calf session, and one
// "twitchd run" process per device with its own spool directory, events
// file and /metrics port, all writing into one influxd 1.8.10. Once every
// device is healthy and has settled, it measures a window: the CPU time
// of each process (utime+stime from /proc/<pid>/stat) as a share of one
// core, its memory (VmRSS, VmHWM), the same of influxd and of this
// process (the stand-ins), the host's load average and busy CPU, the
// points each device wrote, its samples lost, and two latencies:
//
//   - queue to acknowledgement: from the sink queueing a point to
//     InfluxDB acknowledging its write (the sink's
//     twitchd_write_latency_seconds histogram, every point), and
//   - sample to queryable: from the end of an activity epoch (the host
//     time of its last sample) to the first poll, every 250 ms, that
//     finds the epoch's point in InfluxDB with Flux; this includes the
//     detectors' wait for the next sample, the sink's 1 s flush
//     interval, the write and the poll's granularity.
//
// After the window it stops every process with SIGTERM, as systemd
// would, and checks that each exited 0 having written points and lost
// none, that every sample the stand-in played was read or counted as
// lost, and that InfluxDB holds an activity point for every epoch of
// each device's events file. It then lets influxd write its cache to TSM
// and measures the data directory.
//
// By default (go test, make test) it runs 2 devices for a 20 s window,
// about 45 s; make fleet-bench runs 1, 8, 16 and 32 devices for 60 s
// each. Nothing about time or CPU is asserted.
func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("a live fleet for at least half a minute")
	}
	sizes := []int{2}
	if s := os.Getenv(envDevices); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				t.Fatalf("%s=%q: want sizes like 1,8,16,32", envDevices, s)
			}
			sizes = append(sizes, n)
		}
	}
	window := 20 * time.Second
	if s := os.Getenv(envSeconds); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			t.Fatalf("%s=%q: want seconds", envSeconds, s)
		}
		window = time.Duration(v * float64(time.Second))
	}
	tick := 2 * time.Millisecond
	if s := os.Getenv(envTick); s != "" {
		var err error
		if tick, err = time.ParseDuration(s); err != nil || tick <= 0 {
			t.Fatalf("%s=%q: want a duration like 16ms", envTick, s)
		}
	}
	bin := os.Getenv(envBin)
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "twitchd")
		out, err := exec.Command("go", "build", "-o", bin, "github.com/twitchd/twitchd/cmd/twitchd").CombinedOutput()
		if err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	rec, err := LoadRecording(recording.Bundled(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	var rows []result
	for i, n := range sizes {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			r := runFleet(t, bin, rec, n, window, tick, i == 0, os.Getenv(envOneProc) == "1")
			t.Log("\n" + tableHeader + r.row())
			rows = append(rows, r)
		})
	}
	var b strings.Builder
	b.WriteString(tableHeader)
	for _, r := range rows {
		b.WriteString(r.row())
	}
	b.WriteString(tableNotes)
	for _, r := range rows {
		b.WriteString(r.notes())
	}
	t.Log("\n" + b.String())
	if out := os.Getenv(envOut); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// member is one device of the fleet: its stand-in, its events file and
// the process that serves it.
type member struct {
	name, subject, dir, link, events string
	dev                              *device.Device
	unplug                           func()
	p                                *proc
	c0, c1                           [3]int64 // the stand-in's frames, dropped, unsampled
}

// proc is one twitchd process: it serves one member, or all of them.
type proc struct {
	name   string
	addr   string // of /healthz and /metrics; empty: none
	cmd    *exec.Cmd
	stderr string
	exited chan error

	cpu0, cpu1 Proc
	m0, m1     Metrics
}

// start starts p as bin args, its standard error to p.stderr.
func (p *proc) start(t *testing.T, bin string, env []string, args ...string) {
	t.Helper()
	f, err := os.Create(p.stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env, p.cmd.Stderr = env, f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.exited = make(chan error, 1)
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
}

// output returns the part of p's standard error about m: all of it when
// p serves m alone, else the block "device NAME:" that "--device all"
// writes for it.
func (p *proc) output(m *member) string {
	b, err := os.ReadFile(p.stderr)
	if err != nil {
		return err.Error()
	}
	out := string(b)
	if p.name == m.name {
		return out
	}
	_, block, ok := strings.Cut(out, "device "+m.name+":\n")
	if !ok {
		return ""
	}
	if i := strings.Index(block, "\ndevice "); i >= 0 {
		block = block[:i+1]
	}
	return block
}

// result is what one fleet size measured.
type result struct {
	N            int
	Window, Tick time.Duration
	OneProc      bool          // one process served every device
	Load         [2][3]float64 // at the window's start and end
	LoadHi       float64       // highest 1-minute load average seen in it
	// HostBusy is the host's busy CPU in the window, in cores; Others is
	// that minus the fleet, influxd and the stand-ins.
	HostBusy, Others float64

	CPU, CPUMax       float64 // per device, % of a core: mean, highest
	RSS, RSSMax, Peak float64 // per device, MiB: mean at the end, highest, highest VmHWM
	InfluxCPU         float64 // % of a core
	InfluxRSS         float64 // MiB at the end of the window
	StandInCPU        float64 // this process: the stand-ins, polls, scrapes

	PointsHour float64 // per device per hour, in the window
	Points     int64   // written by every process, whole run
	PointsLost int64   // rejected, failed or dropped, whole run

	// In the window, in frames: read by the runs (samples read / 4
	// channels), dropped by the stand-ins because their host did not
	// read within 250 ms (lost), and counted as lost by the runs.
	ReadWindow, DroppedWindow, CountedWindow float64
	// Whole run, in frames: played by the stand-ins, dropped by them
	// (host too slow), read, counted lost, and the rest (the tail played
	// after a run stopped reading at SIGTERM, or a loss nobody counted;
	// negative when the runs counted more than was lost).
	Played, Dropped, Read, LostCounted, Unaccounted int64
	// DroppedBefore and DroppedAfter are the stand-ins' drops before the
	// window (start-up, settling) and after it (the stop).
	DroppedBefore, DroppedAfter int64

	AckP50, AckP99, AckN float64 // queue to acknowledgement, s
	E2EP50, E2EP99       float64 // end of epoch to queryable, s
	E2EN                 int

	DataBytes, WALBytes int64
	BytesPerPoint       float64

	// One device's points copied over StoreDays (see storeDays): how
	// many, and the bytes per point on disk once in TSM files.
	StoreDays           float64
	StorePoints         int64
	StoreBytesPerPoint  float64
	StoreData, StoreWAL int64
}

const tableHeader = `| devices | CPU/device % core (mean, max) | RSS/device MiB (mean, max; peak) | influxd CPU % core | influxd RSS MiB | stand-ins CPU % core | points/device/h | frames lost in window: dropped by stand-ins / counted by runs, of read | frames unread at stop (whole run) | queue→ack p50/p99 s | sample→queryable p50/p99 s (n) | load avg 1m start→end (max) | host busy cores (others) |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
`

const tableNotes = `
frames lost in window: frames a stand-in dropped because its run did not read them within 250 ms (as a device with a small buffer does), and what the runs counted as lost (twitchd_samples_lost_total); read: twitchd_samples_read_total / 4 channels.
unread at stop: played − read − counted over the whole run: the tail a stand-in played after its run stopped reading at SIGTERM.
CPU: utime+stime from /proc/<pid>/stat over the window, as % of one core. RSS: VmRSS at the window's end; peak: the highest VmHWM.
queue→ack: the sink's twitchd_write_latency_seconds histogram (queueing a point to InfluxDB acknowledging it), every point of the window.
sample→queryable: end of an activity epoch (host time of its last sample) to the 250 ms poll that first finds its point with Flux.
load avg: /proc/loadavg (the host is shared; the fleet's own load is in it). host busy: /proc/stat, in cores of 2; others: minus the fleet, influxd and the stand-ins.
`

func (r result) row() string {
	n := strconv.Itoa(r.N)
	if r.OneProc {
		n += " in one process"
	}
	return fmt.Sprintf("| %s | %.2f, %.2f | %.1f, %.1f; %.1f | %.1f | %.0f | %.1f | %.0f | %.0f / %.0f of %.0f | %d of %d | %.2f / %.2f | %.2f / %.2f (%d) | %.2f→%.2f (%.2f) | %.2f (%.2f) |\n",
		n, r.CPU, r.CPUMax, r.RSS, r.RSSMax, r.Peak, r.InfluxCPU, r.InfluxRSS, r.StandInCPU, r.PointsHour,
		r.DroppedWindow, r.CountedWindow, r.ReadWindow, r.Unaccounted, r.Played, r.AckP50, r.AckP99, r.E2EP50, r.E2EP99, r.E2EN,
		r.Load[0][0], r.Load[1][0], r.LoadHi, r.HostBusy, r.Others)
}

func (r result) notes() string {
	if r.StorePoints > 0 {
		return r.notes1() + fmt.Sprintf("N=%d storage: one device's points copied over %g days (a new session each day): %d points, TSM %.1f MiB + WAL %.1f KiB, %.1f bytes per point; at %.0f points per device-hour that is %.0f MiB per subject-year\n",
			r.N, r.StoreDays, r.StorePoints, mib(r.StoreData), float64(r.StoreWAL)/1024, r.StoreBytesPerPoint, r.PointsHour,
			r.StoreBytesPerPoint*r.PointsHour*24*365.25/(1<<20))
	}
	return r.notes1()
}

func (r result) notes1() string {
	mode := "a process per device"
	if r.OneProc {
		mode = "one process for all"
	}
	return fmt.Sprintf("N=%d, %s: stand-ins write every %v; window %v; whole run: %d points written (%d lost), %d frames played (%d dropped by the stand-ins: %d before the window, %d after), %d read, %d counted lost; InfluxDB data %.1f KiB + WAL %.1f KiB after the run, %.1f bytes per point\n",
		r.N, mode, r.Tick, r.Window, r.Points, r.PointsLost, r.Played, r.Dropped, r.DroppedBefore, r.DroppedAfter, r.Read, r.LostCounted, float64(r.DataBytes)/1024, float64(r.WALBytes)/1024, r.BytesPerPoint)
}

// runFleet runs n devices and measures a window of the given length.
// With store, it also estimates storage from one device's points copied
// over TWITCHD_FLEET_DAYS days (see storeDays).
//
// With oneProc, one "twitchd run --device all" serves every device, from a
// configuration file with a [[device]] table each; it serves no
// /metrics, so the queue→ack latency and the runs' own window counts are
// missing, and points per device-hour are those of the whole run.
func runFleet(t *testing.T, bin string, rec *Recording, n int, window, tick time.Duration, store, oneProc bool) result {
	// A cold cache is written to TSM after 2 s without writes, so that
	// the data directory can be measured after the run.
	srv := influxtest.StartWith(t, func(conf string) string {
		return strings.Replace(conf, "[data]\n", "[data]\n  cache-snapshot-write-cold-duration = \"2s\"\n", 1)
	})
	root := t.TempDir()
	env := cleanEnv()
	if p := os.Getenv(envProcs); p != "" {
		env = append(env, "GOMAXPROCS="+p)
	}
	ms := make([]*member, n)
	for i := range ms {
		m := &member{name: fmt.Sprintf("d%02d", i), subject: fmt.Sprintf("fleet-%02d", i), dir: filepath.Join(root, strconv.Itoa(i))}
		if err := os.Mkdir(m.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// Each device plays from its own point of the session, so that
		// their epochs and events do not fall on the same instants.
		// A stand-in drops the frames it cannot send within 250 ms, as
		// a device with a small buffer does: a host too slow to read
		// loses samples (and the run counts them).
		dev, err := device.NewDevice(rec.Loop(i*rec.Frames()/n), device.Options{Protocol: device.BITalino, Speed: 1, Tick: tick})
		if err != nil {
			t.Fatal(err)
		}
		m.dev = dev
		m.link = filepath.Join(m.dir, "ttyUSB0")
		m.unplug = standin.Plug(t, m.dev, m.link)
		ms[i] = m
	}
	var procs []*proc
	if oneProc {
		// One process for every device, from a configuration file with
		// a [[device]] table each.
		var conf strings.Builder
		for _, m := range ms {
			fmt.Fprintf(&conf, "[[device]]\nname = %q\nport = %q\nprotocol = %q\nsubject = %q\nsite = \"calf_left\"\n\n",
				m.name, m.link, device.BITalino, m.subject)
			m.events = filepath.Join(root, "events."+m.name+".jsonl")
		}
		path := filepath.Join(root, "fleet.toml")
		if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		p := &proc{name: "all", stderr: filepath.Join(root, "stderr.log")}
		p.start(t, bin, env, "run", "--config", path, "--device", "all",
			"--influx-url", srv.URL, "--influx-bucket", srv.Bucket,
			"--spool-dir", filepath.Join(root, "spool"), "--events", filepath.Join(root, "events.jsonl"), "--epochs")
		for _, m := range ms {
			m.p = p
		}
		procs = append(procs, p)
	} else {
		for _, m := range ms {
			m.events = filepath.Join(m.dir, "events.jsonl")
			p := &proc{name: m.name, addr: freeAddr(t), stderr: filepath.Join(m.dir, "stderr.log")}
			p.start(t, bin, env, "run", "--port", m.link, "--protocol", device.BITalino,
				"--subject", m.subject, "--site", "calf_left",
				"--influx-url", srv.URL, "--influx-bucket", srv.Bucket,
				"--spool-dir", filepath.Join(m.dir, "spool"), "--events", m.events, "--epochs",
				"--listen", p.addr)
			m.p = p
			procs = append(procs, p)
		}
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	if oneProc {
		waitPoints(t, srv, ms)
	} else {
		waitHealthy(t, hc, ms)
	}
	time.Sleep(settle)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := result{N: n, Window: window, Tick: tick}
	// Window start.
	r.Load[0] = must[[3]float64](t)(LoadAvg())
	r.LoadHi = r.Load[0][0]
	host0 := mustD(t)(HostCPU())
	self0 := must[Proc](t)(ReadProc(0))
	influx0 := must[Proc](t)(ReadProc(srv.Pid()))
	e2e := startPoll(ctx, srv)
	t0 := time.Now()
	for _, p := range procs {
		p.cpu0 = must[Proc](t)(ReadProc(p.cmd.Process.Pid))
		if p.addr != "" {
			p.m0 = must[Metrics](t)(Scrape(ctx, hc, "http://"+p.addr+"/metrics"))
		}
	}
	for _, m := range ms {
		m.c0[0], m.c0[1], m.c0[2] = m.dev.Counts()
	}
	// The window: the load sampled every 2 s.
	for time.Since(t0) < window {
		time.Sleep(min(2*time.Second, window-time.Since(t0)))
		if l, err := LoadAvg(); err == nil {
			r.LoadHi = max(r.LoadHi, l[0])
		}
		for _, p := range procs {
			select {
			case err := <-p.exited:
				t.Fatalf("%s exited during the window: %v\n%s", p.name, err, readFile(p.stderr))
			default:
			}
		}
	}
	// Window end.
	var fleetCPU time.Duration
	for _, p := range procs {
		p.cpu1 = must[Proc](t)(ReadProc(p.cmd.Process.Pid))
		if p.addr != "" {
			p.m1 = must[Metrics](t)(Scrape(ctx, hc, "http://"+p.addr+"/metrics"))
		}
		fleetCPU += p.cpu1.CPU - p.cpu0.CPU
	}
	for _, m := range ms {
		m.c1[0], m.c1[1], m.c1[2] = m.dev.Counts()
	}
	elapsed := time.Since(t0)
	influx1 := must[Proc](t)(ReadProc(srv.Pid()))
	self1 := must[Proc](t)(ReadProc(0))
	host1 := mustD(t)(HostCPU())
	r.Load[1] = must[[3]float64](t)(LoadAvg())
	lat := e2e.stop()

	share := func(d time.Duration) float64 { return 100 * d.Seconds() / elapsed.Seconds() }
	var pooled Metrics = Metrics{}
	var cpus, rsss []float64
	for _, p := range procs {
		// Per device: a process serving several shares out evenly.
		k := float64(n) / float64(len(procs))
		cpus = append(cpus, share(p.cpu1.CPU-p.cpu0.CPU)/k)
		rsss = append(rsss, mib(p.cpu1.RSS)/k)
		r.Peak = max(r.Peak, mib(p.cpu1.Peak)/k)
		pooled.Add(p.m1.Sub(p.m0))
	}
	for _, m := range ms {
		r.DroppedWindow += float64(m.c1[1] - m.c0[1])
		r.DroppedBefore += m.c0[1]
	}
	r.OneProc = oneProc
	r.CPU, r.CPUMax = mean(cpus), slices.Max(cpus)
	r.RSS, r.RSSMax = mean(rsss), slices.Max(rsss)
	r.InfluxCPU, r.InfluxRSS = share(influx1.CPU-influx0.CPU), mib(influx1.RSS)
	r.StandInCPU = share(self1.CPU - self0.CPU)
	r.HostBusy = (host1 - host0).Seconds() / elapsed.Seconds()
	r.Others = r.HostBusy - (fleetCPU+influx1.CPU-influx0.CPU+self1.CPU-self0.CPU).Seconds()/elapsed.Seconds()
	r.PointsHour = pooled["twitchd_points_written_total"] / float64(n) / elapsed.Hours()
	r.ReadWindow = pooled["twitchd_samples_read_total"] / 4
	r.CountedWindow = pooled["twitchd_samples_lost_total"]
	if h, ok := pooled.Histogram("twitchd_write_latency_seconds"); ok {
		r.AckP50, r.AckP99, r.AckN = h.Quantile(0.5), h.Quantile(0.99), h.Total()
	} else if !oneProc {
		t.Error("no twitchd_write_latency_seconds histogram in /metrics")
	}
	r.E2EN = len(lat)
	if len(lat) > 0 {
		r.E2EP50, r.E2EP99 = quantile(lat, 0.5), quantile(lat, 0.99)
	}

	stopFleet(t, procs, ms)
	checkFleet(t, srv, ms, &r)
	if oneProc {
		// No /metrics: points per device-hour over the whole run.
		r.PointsHour = float64(r.Points) / float64(n) / time.Since(t0.Add(-settle)).Hours()
	}
	measureDisk(t, srv, &r)
	if s := os.Getenv(envDays); store && s != "" && s != "0" {
		days, err := strconv.ParseFloat(s, 64)
		if err != nil || days <= 0 {
			t.Fatalf("%s=%q: want days", envDays, s)
		}
		storeDays(t, srv, ms[0], days, &r)
	}
	return r
}

// cleanEnv is the environment without InfluxDB settings and systemd's
// notification socket, which would override the flags or confuse a run.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "INFLUX_") && !strings.HasPrefix(kv, "NOTIFY_SOCKET=") && !strings.HasPrefix(kv, "STATE_DIRECTORY=") {
			env = append(env, kv)
		}
	}
	return env
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

// waitHealthy waits until every member's /healthz answers 200 (reading,
// InfluxDB answering), for at most two minutes.
func waitHealthy(t *testing.T, hc *http.Client, ms []*member) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for _, m := range ms {
		for {
			resp, err := hc.Get("http://" + m.p.addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case err := <-m.p.exited:
				t.Fatalf("%s exited while starting: %v\n%s", m.subject, err, readFile(m.p.stderr))
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not healthy after 2 minutes\n%s", m.subject, readFile(m.p.stderr))
			}
		}
	}
}

// waitPoints waits until InfluxDB holds an activity point of every
// member, for at most two minutes (for a process without /healthz).
func waitPoints(t *testing.T, srv *influxtest.Server, ms []*member) {
	t.Helper()
	q := fmt.Sprintf(`from(bucket: %q) |> range(start: -1h) |> filter(fn: (r) => r._measurement == %q and r._field == %q) |> group(columns: [%q]) |> count()`,
		srv.Bucket, schema.Activity, schema.FieldDuration, schema.TagSubject)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		have := 0
		for _, rec := range srv.Query(t, q) {
			if _, ok := rec[schema.TagSubject].(string); ok {
				have++
			}
		}
		if have == len(ms) {
			return
		}
		select {
		case err := <-ms[0].p.exited:
			t.Fatalf("%s exited while starting: %v\n%s", ms[0].p.name, err, readFile(ms[0].p.stderr))
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d devices have points after 2 minutes\n%s", have, len(ms), readFile(ms[0].p.stderr))
		}
	}
}

// poll finds activity epochs as they become queryable.
type poll struct {
	cancel context.CancelFunc
	done   chan struct{}
	lat    []float64
}

// startPoll queries InfluxDB every 250 ms for the activity epochs of the
// last 30 s and records, for each epoch first seen after the first
// query, the time from its end to the query's answer.
func startPoll(ctx context.Context, srv *influxtest.Server) *poll {
	ctx, cancel := context.WithCancel(ctx)
	p := &poll{cancel: cancel, done: make(chan struct{})}
	q := fmt.Sprintf(`from(bucket: %q) |> range(start: -30s) |> filter(fn: (r) => r._measurement == %q and r._field == %q)`,
		srv.Bucket, schema.Activity, schema.FieldDuration)
	api := srv.Client().QueryAPI(srv.Org)
	go func() {
		defer close(p.done)
		seen := map[string]bool{}
		for first := true; ctx.Err() == nil; first = false {
			res, err := api.Query(ctx, q)
			if err == nil {
				now := time.Now()
				for res.Next() {
					v := res.Record().Values()
					ts, ok1 := v["_time"].(time.Time)
					d, ok2 := v["_value"].(float64)
					if !ok1 || !ok2 {
						continue
					}
					key := fmt.Sprint(v[schema.TagSubject], v[schema.TagSensor], v[schema.TagChannel], ts.UnixNano())
					if seen[key] {
						continue
					}
					seen[key] = true
					if !first {
						p.lat = append(p.lat, now.Sub(ts.Add(time.Duration(d*float64(time.Second)))).Seconds())
					}
				}
				res.Close()
			}
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	return p
}

// stop ends the polls and returns the latencies in seconds.
func (p *poll) stop() []float64 {
	p.cancel()
	<-p.done
	return p.lat
}

// stopFleet sends every process SIGTERM, waits for them to exit, then
// unplugs the stand-ins.
func stopFleet(t *testing.T, procs []*proc, ms []*member) {
	t.Helper()
	for _, p := range procs {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		select {
		case err := <-p.exited:
			if err != nil {
				t.Errorf("%s: exit after SIGTERM: %v\n%s", p.name, err, readFile(p.stderr))
			}
		case <-time.After(2 * time.Minute):
			p.cmd.Process.Kill()
			<-p.exited
			t.Errorf("%s did not exit within 2 minutes of SIGTERM\n%s", p.name, readFile(p.stderr))
		}
	}
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Add(1)
		go func() { defer wg.Done(); m.unplug() }()
	}
	wg.Wait()
}

var writtenRe = regexp.MustCompile(`(?m)^influxdb: (\d+) points written, (\d+) failed`)

// checkFleet checks each member's whole run: points written and none
// lost, every sample the stand-in played read or counted as lost, and an
// activity point in InfluxDB for every epoch of the events file.
func checkFleet(t *testing.T, srv *influxtest.Server, ms []*member, r *result) {
	t.Helper()
	stored := map[string]int64{}
	q := fmt.Sprintf(`from(bucket: %q) |> range(start: -1d) |> filter(fn: (r) => r._measurement == %q and r._field == %q) |> group(columns: [%q]) |> count()`,
		srv.Bucket, schema.Activity, schema.FieldDuration, schema.TagSubject)
	for _, rec := range srv.Query(t, q) {
		s, _ := rec[schema.TagSubject].(string)
		c, _ := rec["_value"].(int64)
		stored[s] = c
	}
	for _, m := range ms {
		log := m.p.output(m)
		w := writtenRe.FindStringSubmatch(log)
		if w == nil {
			t.Errorf("%s: no InfluxDB totals in its output:\n%s", m.subject, log)
			continue
		}
		written, _ := strconv.ParseInt(w[1], 10, 64)
		lost, _ := strconv.ParseInt(w[2], 10, 64)
		r.Points += written
		r.PointsLost += lost
		if written == 0 || lost != 0 {
			t.Errorf("%s: %d points written, %d lost: want some written, none lost", m.subject, written, lost)
		}
		var read, counted int64
		epochs := int64(0)
		for _, ev := range recording.ReadEvents(t, m.events) {
			switch e := ev.(type) {
			case *pipeline.Summary:
				if len(e.Channels) > 0 {
					read += e.Channels[0].Samples
				}
				counted += e.LostSamples
			case *pipeline.Epoch:
				epochs++
			}
		}
		// Frames the stand-in sent, dropped because the host read too
		// late, or did not take while the host had stopped it.
		played := m.dev.Frames + m.dev.Dropped + m.dev.Unsampled
		r.Played += played
		r.Dropped += m.dev.Dropped
		r.DroppedAfter += m.dev.Dropped - m.c1[1]
		r.Read += read
		r.LostCounted += counted
		un := played - read - counted
		r.Unaccounted += un
		// What the stand-in played after the run stopped reading at
		// SIGTERM and before it stopped the device (or the stand-in was
		// unplugged) is neither read nor counted: allow half a second
		// of it.
		// The run may count more than was lost: it estimates a gap's
		// samples from arrival times, and a stall of the machine looks
		// like a gap (a negative rest, logged).
		switch {
		case read == 0 || un > 500:
			t.Errorf("%s: the stand-in played %d frames (%d dropped late, %d unsampled); the run read %d and counted %d lost: %d unaccounted",
				m.subject, played, m.dev.Dropped, m.dev.Unsampled, read, counted, un)
		case un < -50:
			t.Logf("%s: the stand-in played %d frames (%d dropped late); the run read %d and counted %d lost: %d more than it lost",
				m.subject, played, m.dev.Dropped, read, counted, -un)
		}
		if epochs == 0 || stored[m.subject] != epochs {
			t.Errorf("%s: %d epochs in the events file, %d activity points in InfluxDB", m.subject, epochs, stored[m.subject])
		}
	}
}

// measureDisk waits for influxd to write its cache to TSM files (cold
// after 2 s without writes), then measures its data and WAL directories.
func measureDisk(t *testing.T, srv *influxtest.Server, r *result) {
	t.Helper()
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for {
		time.Sleep(time.Second)
		if r.DataBytes, err = DiskUse(filepath.Join(srv.Dir, "data")); err != nil {
			t.Fatal(err)
		}
		if r.WALBytes, err = DiskUse(filepath.Join(srv.Dir, "wal")); err != nil {
			t.Fatal(err)
		}
		if hasTSM(filepath.Join(srv.Dir, "data")) || time.Now().After(deadline) {
			break
		}
	}
	if r.Points > 0 {
		r.BytesPerPoint = float64(r.DataBytes+r.WALBytes) / float64(r.Points)
	}
}

// hasTSM reports whether a .tsm file is under dir.
func hasTSM(dir string) bool {
	found := false
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".tsm") {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

func readFile(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = append([]byte("..."), b[len(b)-4000:]...)
	}
	return string(b)
}

// must returns a function that returns v or fails t on err.
func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func mustD(t *testing.T) func(time.Duration, error) time.Duration { return must[time.Duration](t) }

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// quantile returns the q-quantile of xs by linear interpolation between
// order statistics; xs is sorted in place.
func quantile(xs []float64, q float64) float64 {
	slices.Sort(xs)
	if len(xs) == 1 {
		return xs[0]
	}
	pos := q * float64(len(xs)-1)
	i := int(math.Floor(pos))
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	return xs[i] + (xs[i+1]-xs[i])*(pos-float64(i))
}

// storeDays estimates storage from more points than a short run makes:
// it encodes the events of m's events file (every event InfluxDB got,
// the epochs included) as the sink does, and writes copies of them one
// run's length apart over the given days into a database of its own,
// each day's with its own session tag (a new series set per session, as
// twitchd's schema has it), then lets influxd write them to TSM and
// measures that database's directories. Copies repeat the same values,
// which compress better than new ones would: an estimate from below.
func storeDays(t *testing.T, srv *influxtest.Server, m *member, days float64, r *result) {
	t.Helper()
	const db = "storage"
	srv.Exec(t, "CREATE DATABASE "+db)
	// The points of the run; the summary's and the final assessment's
	// are once a session, not once a run: they go in once a day.
	var lines, daily []byte
	var start, end pipeline.Timestamp
	for _, ev := range recording.ReadEvents(t, m.events) {
		if s, ok := ev.(*pipeline.Summary); ok && start == 0 {
			start, end = s.Start, s.End
		}
		var err error
		switch ev.EventType() {
		case pipeline.TypeSummary, pipeline.TypeAssessment:
			daily, _, err = influx.AppendLines(daily, ev)
		default:
			lines, _, err = influx.AppendLines(lines, ev)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	span := int64(end - start)
	if span <= 0 {
		t.Fatal("no summary with a start and end in the events file")
	}
	base := strings.Split(strings.TrimSuffix(string(lines), "\n"), "\n")
	once := strings.Split(strings.TrimSuffix(string(daily), "\n"), "\n")
	copies := int(math.Ceil(days * 24 * float64(time.Hour) / float64(span)))
	var body strings.Builder
	flush := func() {
		if body.Len() == 0 {
			return
		}
		resp, err := http.Post(srv.URL+"/write?db="+db, "text/plain", strings.NewReader(body.String()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("write: %s", resp.Status)
		}
		body.Reset()
	}
	n := 0
	for c := 0; c < copies; c++ {
		off := int64(c) * span
		day := off / int64(24*time.Hour)
		ls := base
		if c == 0 || (off-span)/int64(24*time.Hour) != day {
			ls = append(slices.Clip(base), once...)
		}
		for _, l := range ls {
			if l == "" {
				continue
			}
			i := strings.LastIndexByte(l, ' ')
			ts, err := strconv.ParseInt(l[i+1:], 10, 64)
			if err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			l = sessionRe.ReplaceAllString(l[:i], fmt.Sprintf("${1}-d%d", day))
			fmt.Fprintf(&body, "%s %d\n", l, ts+off)
			n++
		}
		if body.Len() > 1<<20 {
			flush()
		}
	}
	flush()
	r.StoreDays, r.StorePoints = days, int64(n)
	dataDir, walDir := filepath.Join(srv.Dir, "data", db), filepath.Join(srv.Dir, "wal", db)
	deadline := time.Now().Add(time.Minute)
	for {
		time.Sleep(2 * time.Second)
		var err error
		if r.StoreData, err = DiskUse(dataDir); err != nil {
			t.Fatal(err)
		}
		if r.StoreWAL, err = DiskUse(walDir); err != nil {
			t.Fatal(err)
		}
		// Snapshotted: the WAL holds no more than the empty segment.
		if (hasTSM(dataDir) && r.StoreWAL < 1<<20) || time.Now().After(deadline) {
			break
		}
	}
	r.StoreBytesPerPoint = float64(r.StoreData+r.StoreWAL) / float64(n)
}

// sessionRe finds the session tag of a line (its value up to the next
// unescaped comma or space).
var sessionRe = regexp.MustCompile(`(,session=(?:[^,\\ ]|\\.)+)`)
