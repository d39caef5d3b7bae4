// Package realdata locates the public real recordings for tests. They
// live outside the repository, in ../shared/data/real beside the module
// root (see PROVENANCE.md there), and are never copied into it, so a test
// that reads them skips itself, saying what is missing, where they are
// absent.
package realdata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the real-recordings folder joined with sub (a subfolder or
// a file inside it, e.g. Dir(t, "edf") or Dir(t, "accel", "x.csv")). It
// finds the module root by walking up from the working directory to the
// first go.mod. It skips t, naming the path it looked for, when there is
// no module root or the folder or sub is absent.
func Dir(t testing.TB, sub ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("realdata: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("skipped: real recordings not available: no module root (go.mod) above the test directory")
		}
		dir = parent
	}
	real := filepath.Join(dir, "..", "shared", "data", "real")
	if _, err := os.Stat(real); err != nil {
		t.Skipf("skipped: real recordings folder %s is absent", real)
	}
	path := filepath.Join(append([]string{real}, sub...)...)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("skipped: real recording %s is absent", path)
	}
	return path
}
