package device_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/twitchd/twitchd/internal/decode/ascii"
	"github.com/twitchd/twitchd/internal/decode/bitalino"
	"github.com/twitchd/twitchd/internal/decode/cyton"
	"github.com/twitchd/twitchd/internal/simulate/device"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/pipeline"
)

// rampSource is a synthetic session at rate Hz: an EMG ramp whose value
// identifies the sample (k mod period × step mV) and a 3-axis
// accelerometer, frames timed exactly as the device stand-in samples them.
type rampSource struct {
	rate   float64
	step   float64
	period int64
	n, k   int64
}

func (s *rampSource) Meta() pipeline.Meta {
	return pipeline.Meta{File: "ramp", Channels: []pipeline.Channel{
		{Name: "emg", Kind: pipeline.KindEMG, Unit: "mV", RateHz: s.rate},
		{Name: "acc_x", Kind: pipeline.KindAcc, Unit: "g", Axis: 'x', Group: "acc", RateHz: s.rate},
		{Name: "acc_y", Kind: pipeline.KindAcc, Unit: "g", Axis: 'y', Group: "acc", RateHz: s.rate},
		{Name: "acc_z", Kind: pipeline.KindAcc, Unit: "g", Axis: 'z', Group: "acc", RateHz: s.rate},
	}}
}

func (s *rampSource) emg(k int64) float64 {
	return float64(k%s.period)*s.step - float64(s.period)*s.step/2
}
func (s *rampSource) acc(k int64) [3]float64 {
	return [3]float64{0.5 * math.Sin(2*math.Pi*float64(k%s.period)/float64(s.period)), -0.25, 0.9}
}

func (s *rampSource) Next(_ context.Context, b *pipeline.Batch) error {
	b.Reset()
	for !b.Full() && s.k < s.n {
		v := b.Append(int64(float64(s.k) * 1e9 / s.rate))
		v[0] = s.emg(s.k)
		a := s.acc(s.k)
		copy(v[1:], a[:])
		s.k++
	}
	if b.Len() == 0 {
		return io.EOF
	}
	return nil
}

func (s *rampSource) Stats() pipeline.SourceStats { return pipeline.SourceStats{} }

// fakeDev is a pseudo-terminal pair with a stable symlink to its follower,
// so the "device path" can disappear and come back.
type fakeDev struct {
	link             string
	leader, follower *os.File
}

func newFakeDev(t *testing.T, link string) *fakeDev {
	t.Helper()
	l, f, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := serial.MakeRaw(f); err != nil {
		t.Fatal(err)
	}
	os.Remove(link)
	if err := os.Symlink(f.Name(), link); err != nil {
		t.Fatal(err)
	}
	return &fakeDev{link: link, leader: l, follower: f}
}

// unplug removes the path and closes both sides.
func (d *fakeDev) unplug() {
	os.Remove(d.link)
	d.leader.Close()
	d.follower.Close()
}

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func connConfig(t *testing.T, link string) serial.ConnConfig {
	return serial.ConnConfig{Name: link, IdleCheck: 300 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond, Log: testLog(t)}
}

// collect reads n frames (copied) from src.
func collect(t *testing.T, ctx context.Context, src pipeline.Source, n int) []pipeline.Frame {
	t.Helper()
	b := pipeline.NewBatch(len(src.Meta().Channels), 64)
	var out []pipeline.Frame
	for len(out) < n {
		if err := src.Next(ctx, b); err != nil {
			t.Fatalf("after %d frames: %v", len(out), err)
		}
		for _, f := range b.Frames {
			out = append(out, pipeline.Frame{Time: f.Time, Values: append([]float64(nil), f.Values...)})
		}
	}
	return out
}

type protoCase struct {
	name    string
	rate    float64
	step    float64
	emgTol  float64
	accTol  float64
	options device.Options
	dial    func(ctx context.Context, cc serial.ConnConfig) (pipeline.Source, *serial.Conn, error)
	emgCol  int
	accCols [3]int
	accNaN  bool // accel only every 10th frame
}

func cases() []protoCase {
	return []protoCase{
		{
			name: "cyton", rate: 250, step: 0.001, emgTol: 2e-5, accTol: 1.3e-4,
			options: device.Options{Protocol: device.Cyton},
			dial: func(ctx context.Context, cc serial.ConnConfig) (pipeline.Source, *serial.Conn, error) {
				s, c := cyton.Dial(ctx, cc, cyton.Config{}, serial.StreamOptions{})
				return s, c, nil
			},
			emgCol: 0, accCols: [3]int{8, 9, 10}, accNaN: true,
		},
		{
			name: "bitalino", rate: 1000, step: 0.0033, emgTol: 0.0033, accTol: 0.01,
			options: device.Options{Protocol: device.BITalino},
			dial: func(ctx context.Context, cc serial.ConnConfig) (pipeline.Source, *serial.Conn, error) {
				return bitalino.Dial(ctx, cc, bitalino.DefaultConfig(), serial.StreamOptions{})
			},
			emgCol: 0, accCols: [3]int{1, 2, 3},
		},
		{
			name: "ascii", rate: 250, step: 0.001, emgTol: 1e-9, accTol: 1e-7,
			options: device.Options{Protocol: device.ASCII, Settings: &ascii.Settings{Rate: 250, Counter: true}},
			dial: func(ctx context.Context, cc serial.ConnConfig) (pipeline.Source, *serial.Conn, error) {
				return ascii.Dial(ctx, cc, ascii.Config{Rate: 250, Counter: true}, serial.StreamOptions{})
			},
			emgCol: 0, accCols: [3]int{1, 2, 3},
		},
	}
}

// check verifies frames against the source: consecutive sample numbers
// recovered from the ramp, values within quantisation, increasing times.
func check(t *testing.T, pc protoCase, src *rampSource, frames []pipeline.Frame) int64 {
	t.Helper()
	k0 := int64(math.Round((frames[0].Values[pc.emgCol] + float64(src.period)*src.step/2) / src.step))
	for i, f := range frames {
		k := k0 + int64(i)
		if d := math.Abs(f.Values[pc.emgCol] - src.emg(k)); d > pc.emgTol {
			for j := max(0, i-5); j < min(len(frames), i+5); j++ {
				t.Logf("frame %d: t=%d emg=%.6g", j, frames[j].Time, frames[j].Values[pc.emgCol])
			}
			t.Fatalf("frame %d (sample %d): emg %.6g, want %.6g", i, k, f.Values[pc.emgCol], src.emg(k))
		}
		a := src.acc(k)
		for j, c := range pc.accCols {
			v := f.Values[c]
			if pc.accNaN && math.IsNaN(v) {
				continue
			}
			if math.Abs(v-a[j]) > pc.accTol {
				t.Fatalf("frame %d (sample %d): acc %d = %.6g, want %.6g", i, k, j, v, a[j])
			}
		}
		if i > 0 && f.Time <= frames[i-1].Time {
			t.Fatalf("frame %d time %d not after %d", i, f.Time, frames[i-1].Time)
		}
	}
	return k0
}

func TestEndToEndThroughPTY(t *testing.T) {
	for _, pc := range cases() {
		for _, garbage := range []int{0, 7} {
			name := pc.name
			if garbage > 0 {
				name += "/garbage"
			}
			t.Run(name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				src := &rampSource{rate: pc.rate, step: pc.step, period: 300, n: 1 << 40}
				opts := pc.options
				opts.Speed, opts.GarbageEvery, opts.Seed = 2, garbage, 42
				dev, err := device.NewDevice(src, opts)
				if err != nil {
					t.Fatal(err)
				}
				fd := newFakeDev(t, filepath.Join(t.TempDir(), "ttyFAKE0"))
				defer fd.unplug()
				var wg sync.WaitGroup
				sctx, stop := context.WithCancel(ctx)
				wg.Add(1)
				go func() { defer wg.Done(); dev.Serve(sctx, fd.leader) }()
				defer func() { stop(); fd.leader.Close(); wg.Wait() }()

				live, conn, err := pc.dial(ctx, connConfig(t, fd.link))
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				frames := collect(t, ctx, live, 600)
				check(t, pc, src, frames)
				st := live.Stats()
				if st.Lost != 0 {
					t.Fatalf("lost %d samples on a clean line", st.Lost)
				}
				if garbage > 0 && st.Skipped == 0 {
					t.Fatalf("garbage every %d frames but nothing skipped", garbage)
				}
				if garbage == 0 && st.Skipped != 0 {
					t.Fatalf("skipped %d on a clean line: %v", st.Skipped, st.Examples)
				}
				if len(st.Examples) > 0 && st.Examples[0].Offset < 0 {
					t.Fatalf("skip without a byte offset: %v", st.Examples[0])
				}
			})
		}
	}
}

func TestReconnectAfterUnplug(t *testing.T) {
	pc := cases()[0] // Cyton: the board streams on while the dongle is away
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	src := &rampSource{rate: pc.rate, step: pc.step, period: 300, n: 1 << 40}
	dev, err := device.NewDevice(src, device.Options{Protocol: device.Cyton, Speed: 1})
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "ttyUSB-cyton")
	fd := newFakeDev(t, link)
	serve := func(fd *fakeDev) (stop func()) {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); dev.Serve(sctx, fd.leader) }()
		return func() { cancel(); fd.unplug(); <-done }
	}
	stop := serve(fd)
	live, conn := cyton.Dial(ctx, connConfig(t, link), cyton.Config{}, serial.StreamOptions{Log: testLog(t)})
	defer conn.Close()
	before := collect(t, ctx, live, 250)

	stop() // unplug: path gone, both ends closed
	time.Sleep(600 * time.Millisecond)
	fd2 := newFakeDev(t, link)
	stop2 := serve(fd2)
	defer stop2()

	after := collect(t, ctx, live, 250)
	// Frames read before the unplug may still arrive after it: split the
	// whole run at the outage, which shows as a jump in time.
	all := append(before, after...)
	cut := 0
	for i := 1; i < len(all); i++ {
		if all[i].Time-all[i-1].Time > int64(500*time.Millisecond) {
			cut = i
			break
		}
	}
	if cut == 0 {
		t.Fatal("no jump in time across the outage")
	}
	check(t, pc, src, all[:cut])
	kAfter := check(t, pc, src, all[cut:])
	cs := conn.Stats()
	if cs.Losses != 1 || cs.Connects != 2 {
		t.Fatalf("conn stats %+v, want one loss and two connections", cs)
	}
	st := live.Stats()
	ds := live.DeviceStats()
	if dev.Dropped == 0 {
		t.Fatal("the stand-in dropped nothing while unplugged")
	}
	if st.Lost < dev.Dropped {
		t.Fatalf("lost %d samples, the stand-in dropped %d while unplugged", st.Lost, dev.Dropped)
	}
	// The timestamps jump over the outage: the first frame after it sits
	// about (missed samples) periods after the last one before it.
	gap := time.Duration(all[cut].Time - all[cut-1].Time)
	if gap < 600*time.Millisecond {
		t.Fatalf("time across the outage %v, want at least the 600 ms unplugged", gap)
	}
	t.Logf("samples %d..%d, then from %d: lost %d (stand-in dropped %d), gap %v, stats %+v", 0, len(before), kAfter, st.Lost, dev.Dropped, gap, ds)
}

func TestIdleLineIsNotLost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fd := newFakeDev(t, filepath.Join(t.TempDir(), "ttyACM-idle"))
	defer fd.unplug()
	conn := serial.Dial(ctx, connConfig(t, fd.link))
	defer conn.Close()
	buf := make([]byte, 64)
	if _, _, err := conn.Read(ctx, buf, 0); !errors.Is(err, serial.ErrNewConnection) {
		t.Fatalf("first read: %v, want ErrNewConnection", err)
	}
	// Silent for four idle checks.
	if n, _, err := conn.Read(ctx, buf, 1200*time.Millisecond); n != 0 || err != nil {
		t.Fatalf("idle read: %d bytes, %v", n, err)
	}
	if st := conn.Stats(); st.Losses != 0 || st.Connects != 1 {
		t.Fatalf("idle line: stats %+v, want no loss", st)
	}
	fd.leader.Write([]byte("hello\n"))
	n, at, err := conn.Read(ctx, buf, 2*time.Second)
	if err != nil || string(buf[:n]) != "hello\n" || at == 0 {
		t.Fatalf("read after idle: %q at %d, %v", buf[:n], at, err)
	}
}

// TestHangupThenNewDevice closes the pseudo-terminal's leader while the
// link stays (as when socat dies): reads fail at once, the Conn declares
// the device lost, retries with backoff against the dangling link, and
// connects again when the link points at a live terminal.
func TestHangupThenNewDevice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	link := filepath.Join(t.TempDir(), "ttyACM-hup")
	fd := newFakeDev(t, link)
	conn := serial.Dial(ctx, connConfig(t, link))
	defer conn.Close()
	buf := make([]byte, 64)
	if _, _, err := conn.Read(ctx, buf, 0); !errors.Is(err, serial.ErrNewConnection) {
		t.Fatalf("first read: %v", err)
	}
	fd.leader.Close()
	fd.follower.Close()
	for conn.Stats().Losses == 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	fd2 := newFakeDev(t, link) // re-points the link
	defer fd2.unplug()
	if _, _, err := conn.Read(ctx, buf, 0); !errors.Is(err, serial.ErrNewConnection) {
		t.Fatalf("after hang-up: %v, want a new connection", err)
	}
	fd2.leader.Write([]byte{42})
	if n, _, err := conn.Read(ctx, buf, 0); err != nil || n != 1 || buf[0] != 42 {
		t.Fatalf("read on the new terminal: %d % x %v", n, buf[:n], err)
	}
	if st := conn.Stats(); st.Losses != 1 || st.Connects != 2 {
		t.Fatalf("stats %+v, want one loss, two connections", st)
	}
}
