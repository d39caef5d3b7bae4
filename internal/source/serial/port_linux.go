package serial

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// bauds maps the baud rates Linux names to their termios constants.
var bauds = map[int]uint32{
	1200: unix.B1200, 2400: unix.B2400, 4800: unix.B4800, 9600: unix.B9600,
	19200: unix.B19200, 38400: unix.B38400, 57600: unix.B57600, 115200: unix.B115200,
	230400: unix.B230400, 460800: unix.B460800, 500000: unix.B500000, 576000: unix.B576000,
	921600: unix.B921600, 1000000: unix.B1000000, 1152000: unix.B1152000, 1500000: unix.B1500000,
	2000000: unix.B2000000, 2500000: unix.B2500000, 3000000: unix.B3000000,
	3500000: unix.B3500000, 4000000: unix.B4000000,
}

// openPort opens name at baud, 8N1 and raw as tarm/serial does, but
// keeps the descriptor non-blocking so that a Read waits in Go's network
// poller (epoll) rather than in a thread blocked in read(2). A thread
// blocked in a system call every few milliseconds (a 1 kHz device's
// bytes come in small reads) keeps the runtime's monitor waking every
// 20 µs to hand its processor on: measured by the fleet benchmark, that
// was most of a live run's CPU. A Read with nothing to read within
// readTimeout returns 0, io.EOF, as tarm/serial's does.
func openPort(name string, baud int, readTimeout time.Duration) (Port, error) {
	rate, ok := bauds[baud]
	if !ok {
		return nil, fmt.Errorf("unsupported baud rate %d", baud)
	}
	f, err := os.OpenFile(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	t := unix.Termios{Iflag: unix.IGNPAR, Cflag: unix.CREAD | unix.CLOCAL | unix.CS8 | rate, Ispeed: rate, Ospeed: rate}
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := control(f, func(fd int) error { return unix.IoctlSetTermios(fd, unix.TCSETS, &t) }); err != nil {
		f.Close()
		return nil, err
	}
	return &polledPort{f: f, timeout: readTimeout}, nil
}

// control runs fn on f's descriptor without f.Fd, which would make it
// blocking again.
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// polledPort is a serial line read through the network poller.
type polledPort struct {
	f       *os.File
	timeout time.Duration
}

// Read reads what is there, waiting at most the read timeout: then it
// returns 0, io.EOF.
func (p *polledPort) Read(b []byte) (int, error) {
	if err := p.f.SetReadDeadline(time.Now().Add(p.timeout)); err != nil {
		return 0, err
	}
	n, err := p.f.Read(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, io.EOF
	}
	return n, err
}

// Write writes b.
func (p *polledPort) Write(b []byte) (int, error) { return p.f.Write(b) }

// Flush discards what was received and not read, and what was written
// and not sent.
func (p *polledPort) Flush() error {
	return control(p.f, func(fd int) error { return unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIOFLUSH) })
}

// Close closes the line; a pending Read returns.
func (p *polledPort) Close() error { return p.f.Close() }
