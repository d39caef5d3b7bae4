package progress

import (
	"bytes"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creack/pty"
)

func TestIsTerminal(t *testing.T) {
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer ptm.Close()
	defer tty.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for _, c := range []struct {
		name string
		w    any
		want bool
	}{
		{"pseudo-terminal", tty, true}, {"pipe", w, false}, {os.DevNull, null, false}, {"buffer", &bytes.Buffer{}, false},
	} {
		if got := IsTerminal(c.w.(interface{ Write([]byte) (int, error) })); got != c.want {
			t.Errorf("IsTerminal(%s) = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestLine(t *testing.T) {
	for _, c := range []struct {
		done, total int64
		el          time.Duration
		want        string
	}{
		{50 << 20, 200 << 20, 10 * time.Second, "x.csv   25%  50.0 MiB of 200.0 MiB  5.0 MiB/s  0:30 left"},
		{200 << 20, 200 << 20, 40 * time.Second, "x.csv  100%  200.0 MiB of 200.0 MiB  5.0 MiB/s  0:00 left"},
		{3 << 30, 12 << 30, time.Hour, "x.csv   25%  3.0 GiB of 12.0 GiB  873.8 KiB/s  3:00:00 left"},
		{0, 1000, 2 * time.Second, "x.csv    0%  0 B of 1000 B  0 B/s  -- left"},
		{5000, 0, 2 * time.Second, "x.csv  4.9 KiB  2.4 KiB/s"},
	} {
		if got := Line("x.csv", c.done, c.total, c.el); got != c.want {
			t.Errorf("Line(%d, %d, %v) = %q, want %q", c.done, c.total, c.el, got, c.want)
		}
	}
}

// TestBarOnTerminal draws through a real pseudo-terminal with a clock the
// test moves: nothing in the first second, then the line, redrawn in
// place, and erased at the end.
func TestBarOnTerminal(t *testing.T) {
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer ptm.Close()
	defer tty.Close()
	clock := time.Unix(1000, 0)
	var done atomic.Int64
	b := NewBar(tty, "calf.csv", func() (int64, int64) { return done.Load(), 1000 }, func() time.Time { return clock })
	done.Store(100)
	clock = clock.Add(500 * time.Millisecond)
	if s := b.Draw(); s != "" {
		t.Errorf("drew %q before a second of work", s)
	}
	clock = clock.Add(1500 * time.Millisecond)
	done.Store(500)
	if s := b.Draw(); !strings.HasPrefix(s, "\r") || !strings.Contains(s, " 50%") || !strings.Contains(s, "0:02 left") {
		t.Errorf("line after 2 s at 50%%: %q", s)
	}
	b.Clear()
	tty.Close() // the master reads what was written, then EOF
	got := readAll(t, ptm)
	for _, want := range []string{"\r", "calf.csv", " 50%", "250 B/s", "0:02 left", "\r\x1b[K"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal shows %q, lacks %q", got, want)
		}
	}
}

func readAll(t *testing.T, f *os.File) string {
	t.Helper()
	var b bytes.Buffer
	buf := make([]byte, 4096)
	for {
		_ = f.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := f.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

func TestStartOnPipeWritesNothing(t *testing.T) {
	var out bytes.Buffer
	stop := Start(&out, "x", func() (int64, int64) { return 1, 2 })
	stop()
	stop() // twice is fine
	if out.Len() != 0 {
		t.Errorf("wrote %q to a non-terminal", out.String())
	}
}
