package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// record returns payload framed as a spool record of the current version.
func record(payload []byte) []byte {
	var h [headerLen]byte
	recordHeader(&h, payload, countLines(payload), time.Unix(1_700_000_000, 0))
	return append(h[:], payload...)
}

// recordV1 returns payload framed as a record of format version 1.
func recordV1(payload []byte) []byte {
	var h [headerV1]byte
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(h[4:8], crc32.Checksum(payload, castagnoli))
	return append(h[:], payload...)
}

// FuzzOpenSegment writes arbitrary bytes as a segment and opens the
// spool: Open must not panic, must fail only for a segment of a newer
// format version (leaving it untouched), must keep exactly the whole
// valid records at the start, count a torn tail when there is one, and
// leave a spool that takes and gives back new records.
func FuzzOpenSegment(f *testing.F) {
	good := append(magicOf(Version), record([]byte("a v=1 1\n"))...)
	f.Add([]byte{})
	f.Add(magicOf(Version))
	f.Add(good)
	f.Add(append(append([]byte{}, good...), 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4))
	f.Add(append(append([]byte{}, good...), record([]byte("b v=2 2\n"))[:10]...))
	f.Add(append(magicOf(1), recordV1([]byte("a v=1 1\n"))...))
	f.Add(append(magicOf(1), record([]byte("a v=1 1\n"))...))
	f.Add(append(magicOf(Version+1), record([]byte("a v=1 1\n"))...))
	f.Add([]byte("not a spool segment at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "0000000000000001.seg"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		info, serr := scan(bytes.NewReader(data), func([]byte) error { return nil })
		want := info.good
		s, err := Open(Config{Dir: dir})
		if errors.Is(serr, ErrNewerFormat) {
			if !errors.Is(err, ErrNewerFormat) {
				t.Fatalf("Open of a newer format: %v", err)
			}
			if after, _ := os.ReadFile(filepath.Join(dir, "0000000000000001.seg")); !bytes.Equal(after, data) {
				t.Fatalf("a segment of a newer format was changed")
			}
			return
		}
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		st := s.Stats()
		if torn := want < int64(len(data)); torn != (st.TornTails == 1) || st.TornBytes != int64(len(data))-want {
			t.Fatalf("good prefix %d of %d bytes, stats %+v", want, len(data), st)
		}
		if err := s.Append([]byte("z v=9 9\n"), 1); err != nil {
			t.Fatal(err)
		}
		var got [][]byte
		col := &collector{}
		if err := (&Drainer{Spool: s, Target: col}).Once(t.Context()); err != nil {
			t.Fatal(err)
		}
		got = col.got
		if len(got) == 0 || string(got[len(got)-1]) != "z v=9 9\n" {
			t.Fatalf("the new record did not come back last: %q", got)
		}
	})
}
