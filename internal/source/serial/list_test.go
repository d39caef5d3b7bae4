package serial

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestList lists a fake /dev (moved here from cmd/twitchd with the code).
func TestList(t *testing.T) {
	dev := t.TempDir()
	for _, n := range []string{"ttyUSB10", "ttyUSB2", "ttyACM0", "ttyS0", "null"} {
		if err := os.WriteFile(filepath.Join(dev, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	byID := filepath.Join(dev, "serial", "by-id")
	os.MkdirAll(byID, 0o755)
	os.Symlink("../../ttyUSB2", filepath.Join(byID, "usb-FTDI_FT231X-if00-port0"))
	os.Symlink("../../ttyUSB7", filepath.Join(byID, "usb-gone-if00"))
	want := []Listed{
		{Path: dev + "/ttyUSB2"}, {Path: dev + "/ttyUSB10"}, {Path: dev + "/ttyACM0"},
		{Path: byID + "/usb-FTDI_FT231X-if00-port0", Target: dev + "/ttyUSB2"},
		{Path: byID + "/usb-gone-if00", Target: "(dangling)"},
	}
	if got := List(dev, false); !reflect.DeepEqual(got, want) {
		t.Fatalf("listed:\n%v\nwant:\n%v", got, want)
	}
	if got := List(dev, true); len(got) != 6 || got[3].Path != dev+"/ttyS0" {
		t.Fatalf("with all, ttyS0 after the USB ports: %v", got)
	}
}
