package spool

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestDiskSpaceInjected drives the disk checks with a stand-in for
// statfs: /healthz's check turns unhealthy as soon as the free space is
// below what the spool may still need, while Append still takes
// records; Append refuses, with one clear log line, once a record would
// leave less than MinFree; it takes records again when space is back.
func TestDiskSpaceInjected(t *testing.T) {
	var free atomic.Int64
	var logs bytes.Buffer
	rec := batchOf(0, 10)
	s, err := Open(Config{Dir: t.TempDir(), MaxBytes: 1 << 20, MinFree: 64 << 10,
		FreeSpace: func(string) (int64, error) { return free.Load(), nil },
		Logger:    slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases := []struct {
		name      string
		free      int64
		healthy   bool
		appendErr error
	}{
		{"room for all the spool may take", 2 << 20, true, nil},
		{"less than the spool may need", 512 << 10, false, nil},
		{"a record would eat into MinFree", 64<<10 + 100, false, ErrDiskFull},
		{"still full", 1000, false, ErrDiskFull},
		{"space is back", 4 << 20, true, nil},
	}
	for _, c := range cases {
		free.Store(c.free)
		if err := s.Check(); (err == nil) != c.healthy {
			t.Errorf("%s: Check = %v, want healthy %v", c.name, err, c.healthy)
		} else if err != nil && !strings.Contains(err.Error(), "disk nearly full") {
			t.Errorf("%s: Check = %v, want it to say the disk is nearly full", c.name, err)
		}
		if err := s.Append(rec, 10); !errors.Is(err, c.appendErr) || (err == nil) != (c.appendErr == nil) {
			t.Errorf("%s: Append = %v, want %v", c.name, err, c.appendErr)
		}
	}
	if n := strings.Count(logs.String(), "spool: disk full"); n != 1 {
		t.Errorf("%d log lines about the full disk, want one per episode:\n%s", n, logs.String())
	}
	if st := s.Stats(); st.DiskFullRefused != 20 || st.Refused != 20 || st.Pending != 30 {
		t.Errorf("stats %+v: want 20 points refused for the disk, 30 kept", st)
	}
}

// TestDiskFullOnSmallFilesystem runs the spool on a real 2 MiB tmpfs
// (root only; skipped otherwise): the health check says at once that
// the disk cannot hold what the spool may need, Append refuses with
// ErrDiskFull before the filesystem is full, and, when something else
// fills it behind the spool's back, the write's ENOSPC is refused the
// same way with no partial record left: every record taken comes back.
func TestDiskFullOnSmallFilesystem(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	var logs bytes.Buffer
	cfg := Config{Dir: filepath.Join(mnt, "spool"), MaxBytes: 64 << 20, MinFree: 256 << 10, SegmentBytes: 64 << 10,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), "disk nearly full") {
		t.Fatalf("Check on a 2 MiB disk for a 64 MiB spool: %v", err)
	}
	var taken [][]byte
	var refused error
	for r := 0; r < 10_000 && refused == nil; r++ {
		b := batchOf(r*50, 50)
		if refused = s.Append(b, 50); refused == nil {
			taken = append(taken, b)
		}
	}
	if !errors.Is(refused, ErrDiskFull) || !strings.Contains(logs.String(), "spool: disk full") {
		t.Fatalf("Append on a full disk: %v; log:\n%s", refused, logs.String())
	}
	if free, _ := freeSpace(mnt); free < 128<<10 {
		t.Fatalf("the spool left %d bytes free, want about MinFree", free)
	}
	// Someone else takes the rest: the write itself fails.
	filler, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	filler.Write(make([]byte, 4<<20))
	filler.Close()
	s.cfg.FreeSpace = func(string) (int64, error) { return 1 << 40, nil } // statfs says yes, the disk says no
	if err := s.Append(batchOf(0, 1000), 1000); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Append with ENOSPC: %v", err)
	}
	s.Close()
	os.Remove(filepath.Join(mnt, "filler"))

	s, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st := s.Stats(); st.TornTails != 0 {
		t.Fatalf("a refused write left a torn record: %+v", st)
	}
	col := &collector{}
	if err := (&Drainer{Spool: s, Target: col}).Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.Join(col.got, nil), bytes.Join(taken, nil)) {
		t.Fatalf("drained %d records, %d taken", len(col.got), len(taken))
	}
	t.Logf("2 MiB tmpfs: %d records taken before the disk was full", len(taken))
}
