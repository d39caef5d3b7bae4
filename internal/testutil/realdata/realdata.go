// Package realdata locates the public real recordings for tests. They
// live outside the repository, in ../shared/data/real beside the module
// root (see PROVENANCE.md there), and are never copied into it, so a test
// that reads them skips itself, saying what is missing, where they are
// absent. $TWITCHD_REALDATA points elsewhere (a git worktree has no
// ../shared beside it); internal/realdata catalogues the files.
package realdata

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/twitchd/twitchd/internal/realdata"
)

// Dir returns the real-recordings folder joined with sub (a subfolder or
// a file inside it, e.g. Dir(t, "edf") or Dir(t, "accel", "x.csv")), as
// realdata.Root finds it. It skips t, naming the path it looked for, when
// the folder or sub is absent.
func Dir(t testing.TB, sub ...string) string {
	t.Helper()
	real, err := realdata.Root()
	if errors.Is(err, realdata.ErrAbsent) {
		t.Skipf("skipped: %v (set %s to use another folder)", err, realdata.EnvDir)
	}
	if err != nil {
		t.Fatalf("realdata: %v", err)
	}
	path := filepath.Join(append([]string{real}, sub...)...)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("skipped: real recording %s is absent", path)
	}
	return path
}
