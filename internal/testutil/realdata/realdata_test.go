package realdata

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestDir checks the folder it returns holds the provenance notes, and
// that an absent recording skips with its path in the message.
func TestDir(t *testing.T) {
	dir := Dir(t)
	if _, err := os.Stat(filepath.Join(dir, "PROVENANCE.md")); err != nil {
		t.Errorf("Dir = %s, which has no PROVENANCE.md: %v", dir, err)
	}
	if got, want := filepath.Base(dir), "real"; got != want {
		t.Errorf("Dir = %s, want a folder named %s", dir, want)
	}
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() { // Skip ends the goroutine with runtime.Goexit, as in a test.
		defer close(done)
		Dir(rec, "no-such-folder", "x.csv")
	}()
	<-done
	if want := filepath.Join(dir, "no-such-folder", "x.csv"); !rec.skipped || !strings.Contains(rec.msg, want) {
		t.Errorf("absent path: skipped %v with %q, want a skip naming %s", rec.skipped, rec.msg, want)
	}
}

// recorder is a testing.TB that records a skip instead of skipping.
type recorder struct {
	testing.TB
	skipped bool
	msg     string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
