package ingest

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/sdnotify"
	"github.com/twitchd/twitchd/internal/simulate/device"
	"github.com/twitchd/twitchd/internal/testutil/standin"
)

// shortRecording writes secs seconds of a quiet 250 Hz EMG channel and a
// still accelerometer as CSV, for a stand-in that then falls silent.
func shortRecording(t *testing.T, dir string, secs float64) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("t,emg,acc_x,acc_y,acc_z\n")
	for k := 0; float64(k) < secs*250; k++ {
		fmt.Fprintf(&b, "%.3f,%.5f,0.01,0.02,%.4f\n", 1_800_000_000+float64(k)/250, 0.01*math.Sin(float64(k)*0.7), 1+0.001*math.Cos(float64(k)))
	}
	p := filepath.Join(dir, "short.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// message is a notification received, and when.
type message struct {
	at   time.Time
	text string
}

// notifySocket listens on a real unixgram socket, as systemd does, and
// collects what arrives.
func notifySocket(t *testing.T) (string, func() []message) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var msgs []message
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, message{time.Now(), string(buf[:n])})
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return path, func() []message {
		mu.Lock()
		defer mu.Unlock()
		return append([]message(nil), msgs...)
	}
}

// TestRunNotifiesServiceManager runs a live collection as systemd would,
// with NOTIFY_SOCKET a real unixgram socket and a 1 s watchdog: READY=1
// comes once samples are read (before it only WATCHDOG=1 while waiting
// for the first sample or the device); WATCHDOG=1 every half second while
// they flow; when the stand-in falls silent with the device still there,
// a STATUS line says the watchdog is no longer fed and no WATCHDOG=1
// follows; once the device is unplugged (the run waits for it, it is not
// hung) WATCHDOG=1 resumes with a status saying so; STOPPING=1 is last.
func TestRunNotifiesServiceManager(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock, received := notifySocket(t)
	n, err := sdnotify.New(sock, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	dev := standin.New(t, shortRecording(t, dir, 4), device.Cyton)
	link := filepath.Join(dir, "ttyUSB0")
	unplug := standin.Plug(t, dev, link)
	cfg := liveConfig(link, device.Cyton, "notify")
	cfg.Notify = n
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rctx, stop := context.WithCancel(ctx)
	done := runAsync(rctx, cfg)
	time.Sleep(9 * time.Second) // 4 s of samples, then silence
	unplug()
	time.Sleep(5 * time.Second)
	stop()
	(<-done).check(t, "run")
	var msgs []message
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if msgs = received(); len(msgs) > 0 && strings.HasPrefix(msgs[len(msgs)-1].text, sdnotify.Stopping) {
			break
		}
	}
	var log strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&log, "  %s %q\n", m.at.Format("15:04:05.000"), m.text)
	}
	ready := -1
	for i, m := range msgs {
		if strings.HasPrefix(m.text, sdnotify.Ready+"\nSTATUS=reading ") && !strings.Contains(m.text, ": 0 samples") {
			ready = i
			break
		}
		if !strings.Contains(m.text, "waiting for the first sample") && !strings.Contains(m.text, "device away") {
			t.Fatalf("%q before READY=1:\n%s", m.text, log.String())
		}
	}
	if ready < 0 {
		t.Fatalf("no READY=1 once samples were read:\n%s", log.String())
	}
	if last := msgs[len(msgs)-1].text; !strings.HasPrefix(last, sdnotify.Stopping) {
		t.Fatalf("STOPPING=1 is not last:\n%s", log.String())
	}
	// Phases: fed while samples flow, not fed while silent, fed while away.
	phase, fed := 0, [3]int{}
	for _, m := range msgs[ready+1 : len(msgs)-1] {
		switch {
		case strings.Contains(m.text, "not feeding the watchdog"):
			phase = max(phase, 1)
		case strings.Contains(m.text, "device away"):
			phase = 2
		}
		if strings.HasPrefix(m.text, sdnotify.Watchdog) {
			fed[phase]++
		}
	}
	if fed[0] < 4 || fed[1] != 0 || fed[2] < 2 {
		t.Fatalf("WATCHDOG=1 sent %d times while samples flowed, %d while silent, %d while away; want >= 4, 0, >= 2:\n%s",
			fed[0], fed[1], fed[2], log.String())
	}
}
