package sdnotify

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// listen opens a real unixgram socket, as the service manager does, and
// returns its name and a function reading the next message.
func listen(t *testing.T, name string) (string, func() string) {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return name, func() string {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no message: %v", err)
		}
		return string(buf[:n])
	}
}

func TestSendOverRealSocket(t *testing.T) {
	cases := []struct {
		name   string
		socket string
	}{
		{"path", filepath.Join(t.TempDir(), "notify")},
		{"abstract", "@twitchd-test-" + strconv.Itoa(os.Getpid())},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sock, next := listen(t, c.socket)
			n, err := New(sock, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			for _, want := range [][]string{{Ready, Status("collecting from /dev/ttyUSB0")}, {Watchdog}, {Stopping}} {
				if err := n.Send(want...); err != nil {
					t.Fatal(err)
				}
				got := next()
				if w := joinLines(want); got != w {
					t.Fatalf("got %q, want %q", got, w)
				}
			}
		})
	}
}

func joinLines(s []string) string {
	out := ""
	for i, l := range s {
		if i > 0 {
			out += "\n"
		}
		out += l
	}
	return out
}

func TestFromEnv(t *testing.T) {
	sock, next := listen(t, filepath.Join(t.TempDir(), "notify"))
	cases := []struct {
		name     string
		env      map[string]string
		nil      bool
		watchdog time.Duration
		err      bool
	}{
		{"not under a service manager", map[string]string{}, true, 0, false},
		{"no watchdog", map[string]string{SocketEnv: sock}, false, 0, false},
		{"watchdog", map[string]string{SocketEnv: sock, WatchdogEnv: "30000000"}, false, 15 * time.Second, false},
		{"watchdog for this pid", map[string]string{SocketEnv: sock, WatchdogEnv: "2000000", WatchdogPIDEnv: strconv.Itoa(os.Getpid())}, false, time.Second, false},
		{"watchdog for another process", map[string]string{SocketEnv: sock, WatchdogEnv: "2000000", WatchdogPIDEnv: "1"}, false, 0, false},
		{"bad watchdog", map[string]string{SocketEnv: sock, WatchdogEnv: "soon"}, false, 0, true},
		{"relative socket", map[string]string{SocketEnv: "notify"}, false, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{SocketEnv, WatchdogEnv, WatchdogPIDEnv} {
				t.Setenv(k, c.env[k])
			}
			n, err := FromEnv()
			if (err != nil) != c.err {
				t.Fatalf("err %v", err)
			}
			if c.err {
				return
			}
			if (n == nil) != c.nil || n.WatchdogInterval() != c.watchdog {
				t.Fatalf("notifier %v, watchdog interval %v; want nil %v, %v", n, n.WatchdogInterval(), c.nil, c.watchdog)
			}
			if n != nil {
				n.Send(Ready)
				if got := next(); got != Ready {
					t.Fatalf("got %q", got)
				}
				n.Close()
			}
		})
	}
	var none *Notifier
	if err := none.Send(Ready); err != nil || none.WatchdogInterval() != 0 || none.Close() != nil {
		t.Fatal("a nil Notifier must do nothing")
	}
}
