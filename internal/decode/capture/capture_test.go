package capture

import (
	"bytes"
	"testing"
)

// TestBuffer feeds bytes in steps, consuming some between feeds, and
// checks that the unread bytes and their stream offsets survive the
// compactions and a Drop.
func TestBuffer(t *testing.T) {
	var q Buffer
	stream := []byte("0123456789abcdefghij")
	steps := []struct {
		name    string
		feed    string
		consume int
		unread  string
		base    int64
	}{
		{"first feed, nothing read", "0123", 0, "0123", 0},
		{"read a little", "45", 2, "2345", 0},
		{"less than half read before the feed: no move", "67", 3, "567", 0},
		{"half read before the feed: unread moved to the front", "89ab", 6, "b", 5},
	}
	for _, s := range steps {
		q.Feed([]byte(s.feed))
		q.R += s.consume
		if got := string(q.Buf[q.R:]); got != s.unread {
			t.Fatalf("%s: unread %q, want %q", s.name, got, s.unread)
		}
		if q.Base != s.base {
			t.Fatalf("%s: Base %d, want %d", s.name, q.Base, s.base)
		}
		off := q.Base + int64(q.R)
		if q.R < len(q.Buf) && !bytes.Equal(q.Buf[q.R:], stream[off:off+int64(len(q.Buf)-q.R)]) {
			t.Fatalf("%s: Buf[R:] %q is not the stream at offset %d", s.name, q.Buf[q.R:], off)
		}
	}
	q.Feed([]byte("cd"))
	q.Drop()
	if len(q.Buf) != 0 || q.R != 0 || q.Base != 14 {
		t.Fatalf("after Drop: %d bytes, R %d, Base %d; want 0, 0, 14", len(q.Buf), q.R, q.Base)
	}
	q.Feed([]byte("ef"))
	if q.Base != 14 || string(q.Buf) != "ef" || !bytes.Equal(q.Buf, stream[14:16]) {
		t.Fatalf("after Drop and Feed: Base %d, Buf %q", q.Base, q.Buf)
	}
}
