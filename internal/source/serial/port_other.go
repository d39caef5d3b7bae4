//go:build !linux

package serial

import (
	"time"

	tarm "github.com/tarm/serial"
)

// openPort opens name with tarm/serial.
func openPort(name string, baud int, readTimeout time.Duration) (Port, error) {
	return tarm.OpenPort(&tarm.Config{Name: name, Baud: baud, ReadTimeout: readTimeout})
}
