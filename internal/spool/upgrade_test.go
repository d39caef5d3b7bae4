package spool

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fixtureV1 lists the records of testdata/spool-v1 (written by the code
// of the release before format version 2), oldest first.
var fixtureV1 = [][]string{
	{
		"twitch,channel=emg,phase=post_exercise,sensor=emg,session=20261125T100000Z-3fa2c1,site=calf_left,subject=fixture confirmed=false,duration_s=0.012,peak=0.081,potentials=2i,snr=9.5 1764065100123000000",
		"twitch,channel=emg,phase=post_exercise,sensor=emg,session=20261125T100000Z-3fa2c1,site=calf_left,subject=fixture confirmed=true,duration_s=0.009,peak=0.064,potentials=1i,snr=7.25 1764065142500000000",
	},
	{
		"activity,channel=emg,sensor=emg,session=20261125T100000Z-3fa2c1,site=calf_left,subject=fixture duration_s=5,noise=0.0041,rms_mv=0.0123 1764065100000000000",
		"activity,channel=acc,intensity=sedentary,sensor=acc,session=20261125T100000Z-3fa2c1,site=calf_left,subject=fixture duration_s=5,enmo_mg=3.5,intensity_level=0i,noise=0.8 1764065100000000000",
		"bout,intensity=vigorous,sensor=acc,session=20261125T100000Z-3fa2c1,site=calf_left,subject=fixture duration_s=95.5,intensity_level=3i,mean_enmo_mg=512.5,peak_acc_g=2.75,peak_enmo_mg=903 1764064800000000000",
	},
	{
		"rest,session=20261125T100000Z-3fa2c1,site=calf_left,subject=fixture after_exercise=true,duration_s=300 1764064900000000000",
	},
}

// copyFixture copies testdata/name into a new directory (Open truncates
// and locks what it opens) and returns it.
func copyFixture(t testing.TB, name string) string {
	t.Helper()
	src := filepath.Join("testdata", name)
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestPreviousFormatIsRead opens the spool the previous release left
// (format version 1), appends to it in today's format, and drains it:
// the old records come back exactly and first, then the new one, and no
// byte of the old segments is taken for a torn tail.
func TestPreviousFormatIsRead(t *testing.T) {
	dir := copyFixture(t, "spool-v1")
	s := open(t, dir, 0, 0)
	defer s.Close()
	st := s.Stats()
	if st.Pending != 6 || st.TornTails != 0 || st.Segments != 3 || st.Oldest.IsZero() {
		t.Fatalf("opened the previous release's spool: %+v; want 6 points in 2 segments (and a new active one), nothing torn", st)
	}
	fresh := batchOf(0, 3)
	if err := s.Append(fresh, 3); err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	if err := (&Drainer{Spool: s, Target: col}).Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for _, rec := range fixtureV1 {
		want = append(want, []byte(strings.Join(rec, "\n")+"\n"))
	}
	want = append(want, fresh)
	if len(col.got) != len(want) {
		t.Fatalf("drained %d records, want %d", len(col.got), len(want))
	}
	for i := range want {
		if !bytes.Equal(col.got[i], want[i]) {
			t.Fatalf("record %d:\n%s\nwant\n%s", i, col.got[i], want[i])
		}
	}
	if st := s.Stats(); !s.Empty() || st.Resent != 9 || !st.Oldest.IsZero() {
		t.Fatalf("after the drain: %+v", st)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	for _, p := range segs {
		b, _ := os.ReadFile(p)
		if !bytes.HasPrefix(b, magicOf(Version)) {
			t.Fatalf("%s left after the drain is not in format %d: %q", p, Version, b[:min(len(b), 8)])
		}
	}
}

// TestNewerFormatIsLeftAlone: a segment written by a newer release makes
// Open fail with ErrNewerFormat, naming the file, and leaves the
// directory as it was (an older twitchd must not destroy it).
func TestNewerFormatIsLeftAlone(t *testing.T) {
	dir := t.TempDir()
	data := append(magicOf(Version+1), []byte("records this release cannot read")...)
	path := filepath.Join(dir, "0000000000000007.seg")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Config{Dir: dir})
	if !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open = %v, want ErrNewerFormat naming %s", err, path)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, data) {
		t.Fatal("the newer segment was changed")
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "*.seg")); len(segs) != 1 {
		t.Fatalf("segments after the refused Open: %v", segs)
	}
}

// TestOldestIsWhenSpooled: Stats.Oldest is when the oldest record still
// waiting was appended.
func TestOldestIsWhenSpooled(t *testing.T) {
	s := open(t, t.TempDir(), 0, 4096)
	defer s.Close()
	before := time.Now()
	for r := 0; r < 40; r++ {
		if err := s.Append(batchOf(r*10, 10), 10); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.Segments < 2 || st.Oldest.Before(before.Add(-time.Millisecond)) || st.Oldest.After(time.Now()) {
		t.Fatalf("oldest %v, appended from %v on, %d segments", st.Oldest, before, st.Segments)
	}
}
