// Package sdnotify speaks the service manager's notification protocol
// (systemd's sd_notify(3)) without cgo: one datagram per message, such
// as "READY=1" or "WATCHDOG=1", to the unix socket that NOTIFY_SOCKET
// names, and the watchdog's period from WATCHDOG_USEC.
//
// A nil *Notifier is valid and sends nothing, so callers need not check
// whether they run under a service manager.
package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Environment variables the service manager sets.
const (
	SocketEnv      = "NOTIFY_SOCKET"
	WatchdogEnv    = "WATCHDOG_USEC"
	WatchdogPIDEnv = "WATCHDOG_PID"
)

// Messages of the protocol that twitchd sends.
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
	Watchdog = "WATCHDOG=1"
)

// Notifier sends notifications to the service manager. Its methods are
// safe for concurrent use and do nothing on a nil Notifier.
type Notifier struct {
	mu       sync.Mutex
	conn     *net.UnixConn
	watchdog time.Duration
}

// FromEnv returns a Notifier for the socket NOTIFY_SOCKET names, with the
// watchdog period of WATCHDOG_USEC when WATCHDOG_PID is unset or this
// process; nil and no error when NOTIFY_SOCKET is unset.
func FromEnv() (*Notifier, error) {
	sock := os.Getenv(SocketEnv)
	if sock == "" {
		return nil, nil
	}
	var wd time.Duration
	if us := os.Getenv(WatchdogEnv); us != "" {
		n, err := strconv.ParseInt(us, 10, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("sdnotify: %s=%q is not a positive number of microseconds", WatchdogEnv, us)
		}
		if pid := os.Getenv(WatchdogPIDEnv); pid == "" || pid == strconv.Itoa(os.Getpid()) {
			wd = time.Duration(n) * time.Microsecond
		}
	}
	return New(sock, wd)
}

// New returns a Notifier for socket (a path, or "@name" for an abstract
// socket) with the watchdog period watchdog (0: none).
func New(socket string, watchdog time.Duration) (*Notifier, error) {
	if !strings.HasPrefix(socket, "/") && !strings.HasPrefix(socket, "@") {
		return nil, fmt.Errorf("sdnotify: %s=%q is neither a path nor an abstract socket", SocketEnv, socket)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("sdnotify: %w", err)
	}
	return &Notifier{conn: conn, watchdog: watchdog}, nil
}

// Send sends the states as one message, one per line (e.g. Ready and
// Status("...")).
func (n *Notifier) Send(states ...string) error {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil {
		return errors.New("sdnotify: closed")
	}
	if _, err := n.conn.Write([]byte(strings.Join(states, "\n"))); err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	return nil
}

// Status returns the STATUS= state for text (one line).
func Status(text string) string {
	return "STATUS=" + strings.ReplaceAll(text, "\n", " ")
}

// WatchdogInterval returns how often to send Watchdog: half the period
// the service manager asked for, 0 when it asked for none.
func (n *Notifier) WatchdogInterval() time.Duration {
	if n == nil {
		return 0
	}
	return n.watchdog / 2
}

// Close closes the socket.
func (n *Notifier) Close() error {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil {
		return nil
	}
	err := n.conn.Close()
	n.conn = nil
	return err
}
