package spool

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/metrics"
)

// TestFinal checks the drain at the end of a run: it waits for a server
// coming back, gives up on one that stays away (keeping the spool), and
// stops when its time is up.
func TestFinal(t *testing.T) {
	cases := []struct {
		name      string
		downFor   int // Ready fails this many times first
		wait      time.Duration
		timeout   time.Duration
		wantErr   string
		wantEmpty bool
	}{
		{"server answers", 0, time.Second, 10 * time.Second, "", true},
		{"server back within the wait", 2, 5 * time.Second, 10 * time.Second, "", true},
		{"server stays away", 1 << 30, 1500 * time.Millisecond, 10 * time.Second, "not answering", false},
		{"time is up first", 1 << 30, 10 * time.Second, 1500 * time.Millisecond, "not answering", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := open(t, t.TempDir(), 0, 0)
			defer s.Close()
			if err := s.Append(batchOf(0, 5), 5); err != nil {
				t.Fatal(err)
			}
			col := &collector{}
			pings := 0
			d := &Drainer{Spool: s, Target: col, Ready: func(context.Context) error {
				pings++
				if pings <= c.downFor {
					return errors.New("connection refused")
				}
				return nil
			}}
			ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
			defer cancel()
			err := d.Final(ctx, c.wait)
			if (c.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("err %v, want %q", err, c.wantErr)
			}
			if s.Empty() != c.wantEmpty {
				t.Fatalf("spool empty %v, want %v", s.Empty(), c.wantEmpty)
			}
			if c.wantEmpty && !bytes.Equal(bytes.Join(col.got, nil), batchOf(0, 5)) {
				t.Fatalf("sent %q", bytes.Join(col.got, nil))
			}
		})
	}
}

func TestCheckAndCollect(t *testing.T) {
	s := open(t, t.TempDir(), 10_000, 4096)
	defer s.Close()
	if err := s.Check(); err != nil {
		t.Fatalf("empty spool: %v", err)
	}
	for s.Stats().PendingBytes < 9_000 {
		if err := s.Append(batchOf(0, 10), 10); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), "% full") {
		t.Fatalf("spool at %d of 10000 bytes: check %v, want nearly full", s.Stats().PendingBytes, err)
	}
	var b bytes.Buffer
	w := metrics.NewWriter(&b)
	s.Collect(w)
	w.Flush()
	for _, want := range []string{"# TYPE twitchd_spool_points gauge\ntwitchd_spool_points ", "twitchd_spool_points_refused_total 0\n"} {
		if !strings.Contains(b.String(), want) {
			t.Fatalf("metrics lack %q:\n%s", want, b.String())
		}
	}
}
