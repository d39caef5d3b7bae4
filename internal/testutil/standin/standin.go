// Package standin serves a device stand-in (internal/simulate/device) on
// a real pseudo-terminal pair for tests of live collection: the code
// under test opens a symlink to the follower as it would open
// /dev/ttyUSB0, and the test can pull the device out and plug it in
// again.
package standin

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/simulate/device"
	"github.com/twitchd/twitchd/internal/source/serial"
)

// New returns a stand-in for protocol playing the recording at path in
// real time (the stream is timestamped by the host clock at its nominal
// rate, so a faster stand-in would run ahead of the clock).
func New(t testing.TB, path, protocol string) *device.Device {
	t.Helper()
	src, err := decode.OpenFile(path, "", decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	dev, err := device.NewDevice(src, device.Options{Protocol: protocol, Speed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return dev
}

// Serve plays the recording at path as protocol on a new pseudo-terminal
// reachable at a symlink in dir, until the test ends, and returns the
// symlink.
func Serve(t testing.TB, dir, path, protocol string) string {
	t.Helper()
	link := filepath.Join(dir, "ttyUSB-"+protocol)
	Plug(t, New(t, path, protocol), link)
	return link
}

// Plug serves dev on a fresh pseudo-terminal behind link and returns a
// function that unplugs it: the stand-in stops, both ends close and the
// link goes away, as when a USB adapter is pulled. The test's end
// unplugs it too. It skips the test where there are no pseudo-terminals.
func Plug(t testing.TB, dev *device.Device, link string) (unplug func()) {
	t.Helper()
	leader, follower, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	if err := serial.MakeRaw(follower); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(follower.Name(), link); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); dev.Serve(ctx, leader) }()
	var once sync.Once
	unplug = func() {
		once.Do(func() {
			os.Remove(link)
			cancel()
			leader.Close()
			follower.Close()
			// A write blocked on a pty nobody reads is not interrupted by
			// Close; do not hang the test on it.
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				t.Log("stand-in still blocked in a write after unplugging")
			}
		})
	}
	t.Cleanup(unplug)
	return unplug
}
