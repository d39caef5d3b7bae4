package serial_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/twitchd/twitchd/internal/metrics"
	"github.com/twitchd/twitchd/internal/source/serial"
)

// terminal is a raw pseudo-terminal pair: the test plays the device on
// leader, the Conn opens the follower through a link.
type terminal struct{ leader, follower *os.File }

func openTerminal(t *testing.T) terminal {
	t.Helper()
	l, f, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { l.Close(); f.Close() })
	if err := serial.MakeRaw(f); err != nil {
		t.Fatal(err)
	}
	return terminal{leader: l, follower: f}
}

// pointLink makes link name target in one rename, so the path never
// disappears: what udev does to a /dev/serial/by-id link on a replug.
func pointLink(t *testing.T, link, target string) {
	t.Helper()
	tmp := link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
}

// readByte reads until one data byte arrives, failing on anything else.
func readByte(t *testing.T, ctx context.Context, c *serial.Conn, wait time.Duration) byte {
	t.Helper()
	buf := make([]byte, 1)
	n, _, err := c.Read(ctx, buf, wait)
	if err != nil || n != 1 {
		t.Fatalf("read: %d bytes, %v; want one data byte", n, err)
	}
	return buf[0]
}

// TestReplugWithinIdleCheck re-points the device link at a new terminal
// while the old one stays silent, faster than the idle check: the path
// still exists throughout, yet the Conn must notice that it names another
// device, reconnect and read the new one.
func TestReplugWithinIdleCheck(t *testing.T) {
	cases := []struct {
		name   string
		hangUp bool // close the old terminal's leader at the switch
	}{
		// A dongle that keeps its old node open but silent: without the
		// identity check this read the dead terminal for ever.
		{name: "old terminal silent", hangUp: false},
		// The usual unplug: reads on the old terminal fail at once.
		{name: "old terminal hung up", hangUp: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
			defer cancel()
			link := filepath.Join(t.TempDir(), "ttyUSB0")
			old := openTerminal(t)
			pointLink(t, link, old.follower.Name())
			idle := 300 * time.Millisecond
			conn := serial.Dial(ctx, serial.ConnConfig{Name: link, IdleCheck: idle, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
			defer conn.Close()
			buf := make([]byte, 16)
			if _, _, err := conn.Read(ctx, buf, 0); !errors.Is(err, serial.ErrNewConnection) {
				t.Fatalf("first read: %v, want ErrNewConnection", err)
			}
			old.leader.Write([]byte{1})
			if b := readByte(t, ctx, conn, 2*time.Second); b != 1 {
				t.Fatalf("old terminal: read %d, want 1", b)
			}

			// Replug: well inside one idle check, the link moves on.
			fresh := openTerminal(t)
			pointLink(t, link, fresh.follower.Name())
			if tc.hangUp {
				old.leader.Close()
			}
			// Bounded by a few idle checks plus backoff, not a timer in
			// the code under test: a Conn stuck on the old terminal
			// returns (0, 0, nil) here.
			n, _, err := conn.Read(ctx, buf, 10*idle)
			if !errors.Is(err, serial.ErrNewConnection) {
				t.Fatalf("after the replug: %d bytes, %v; want ErrNewConnection (stats %+v)", n, err, conn.Stats())
			}
			fresh.leader.Write([]byte{2})
			if !tc.hangUp {
				old.leader.Write([]byte{9}) // must not be read any more
			}
			if b := readByte(t, ctx, conn, 2*time.Second); b != 2 {
				t.Fatalf("after the replug: read %d, want 2 from the new terminal", b)
			}
			if st := conn.Stats(); st.Losses != 1 || st.Connects != 2 || st.Bytes != 2 {
				t.Fatalf("stats %+v, want one loss, two connections, two bytes", st)
			}
			var b strings.Builder
			w := metrics.NewWriter(&b)
			conn.Collect(w)
			w.Flush()
			for _, want := range []string{"twitchd_serial_losses_total 1\n", "twitchd_serial_connects_total 2\n", "twitchd_serial_bytes_total 2\n"} {
				if !strings.Contains(b.String(), want) {
					t.Fatalf("metrics lack %q:\n%s", want, b.String())
				}
			}
		})
	}
}
