package spool

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// record returns payload framed as a spool record.
func record(payload []byte) []byte {
	var h [headerLen]byte
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(h[4:8], crc32.Checksum(payload, castagnoli))
	return append(h[:], payload...)
}

// FuzzOpenSegment writes arbitrary bytes as a segment and opens the
// spool: Open must not panic or fail, must keep exactly the whole valid
// records at the start, count a torn tail when there is one, and leave a
// spool that takes and gives back new records.
func FuzzOpenSegment(f *testing.F) {
	good := append([]byte(magic), record([]byte("a v=1 1\n"))...)
	f.Add([]byte{})
	f.Add([]byte(magic))
	f.Add(good)
	f.Add(append(append([]byte{}, good...), 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4))
	f.Add(append(append([]byte{}, good...), record([]byte("b v=2 2\n"))[:10]...))
	f.Add([]byte("not a spool segment at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "0000000000000001.seg"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		want, _, _, _ := scan(bytes.NewReader(data), func([]byte) error { return nil })
		s, err := Open(Config{Dir: dir})
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
