// Package serial reads live device streams from serial ports: a Port
// (non-blocking, read through Go's poller, on Linux; opened with
// github.com/tarm/serial elsewhere), a Conn that tells an idle line from
// a lost device and reconnects with backoff, a Clock that timestamps
// samples from the host clock with slow drift correction, and a Stream
// that turns a protocol Decoder's output into a pipeline.Source.
package serial

import (
	"fmt"
	"io"
	"time"
)

// Port is an open serial line. Reads return 0, io.EOF when ReadTimeout
// passes without data, so a Port must always be opened with a timeout:
// with tarm/serial, Close blocks while a Read without one is pending.
type Port interface {
	io.ReadWriteCloser
}

// Read timeout limits imposed by termios VTIME (deciseconds, 1..255).
const (
	MinReadTimeout = 100 * time.Millisecond
	MaxReadTimeout = 25500 * time.Millisecond
)

// OpenPort opens name at baud (8N1, raw) with a read timeout clamped to
// MinReadTimeout..MaxReadTimeout.
func OpenPort(name string, baud int, readTimeout time.Duration) (Port, error) {
	readTimeout = min(max(readTimeout, MinReadTimeout), MaxReadTimeout)
	p, err := openPort(name, baud, readTimeout)
	if err != nil {
		return nil, fmt.Errorf("serial: open %s at %d baud: %w", name, baud, err)
	}
	return p, nil
}
