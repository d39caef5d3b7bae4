package influxconn

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/pipeline"
)

func TestSettings(t *testing.T) {
	s := Settings{URL: "http://127.0.0.1:8086/", Bucket: "twitchd/autogen"}
	// The spool directory of a server and bucket must stay where earlier
	// releases put it, or a spool left by one would not be sent: this is
	// the first 6 bytes of SHA-256("http://127.0.0.1:8086\ntwitchd/autogen").
	if got := s.SpoolDir("/var/lib/twitchd"); got != "/var/lib/twitchd/2720f146c3ec" {
		t.Fatalf("spool dir %s", got)
	}
	if other := (Settings{URL: s.URL, Bucket: "other/autogen"}).SpoolDir("/x"); other == s.SpoolDir("/x") {
		t.Fatal("two buckets share a spool")
	}
	target := Settings{URL: "https://user:secret@influx.example:8086", Bucket: "b"}.Target()
	if strings.Contains(target, "secret") || !strings.Contains(target, "url = https://user:xxxxx@influx.example:8086") {
		t.Fatalf("target %q", target)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	cases := []struct {
		name string
		s    Settings
		want string
	}{
		{"no URL", Settings{}, "no InfluxDB URL"},
		{"missing token file", Settings{URL: "http://x", TokenFile: filepath.Join(dir, "nope")}, "influx token"},
		{"missing CA", Settings{URL: "https://x", CAFile: filepath.Join(dir, "nope")}, "influx CA"},
		{"CA without a certificate", Settings{URL: "https://x", CAFile: bad}, "holds no PEM certificate"},
		{"missing key", Settings{URL: "http://x", PseudonymKeyFile: filepath.Join(dir, "nope")}, "pseudonymisation key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Open(c.s); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
	if _, err := Open(Settings{}); !errors.Is(err, ErrNoURL) {
		t.Fatalf("no URL: %v", err)
	}
}

// TestConn writes a note-like event through a Conn with a pseudonymising
// key to a real influxd, reads it back under the pseudonym, and watches
// the server go away.
func TestConn(t *testing.T) {
	srv := influxtest.Start(t)
	dir := t.TempDir()
	key, tok := filepath.Join(dir, "key"), filepath.Join(dir, "token")
	os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	os.WriteFile(tok, []byte("\n"), 0o600) // auth is off: an empty token
	c, err := Open(Settings{URL: srv.URL, Org: "twitchd", Bucket: srv.Bucket, TokenFile: tok, PseudonymKeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	subject := c.Subject("alice")
	if subject != "p-433deb45467e4e53" {
		t.Fatalf("pseudonym %q", subject)
	}
	ev := &pipeline.Symptom{Time: pipeline.Timestamp(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixNano()),
		Tags: pipeline.Tags{Subject: subject}, Symptom: "weakness", Text: "stairs"}
	if err := c.Write(ctx, ev); err != nil {
		t.Fatal(err)
	}
	res, err := c.Query().Query(ctx, `from(bucket: "`+c.Bucket()+`") |> range(start: 0) |> filter(fn: (r) => r.subject == "`+subject+`" and r._field == "text")`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for res.Next() {
		if res.Record().Value() == "stairs" {
			n++
		}
	}
	if res.Err() != nil || n != 1 {
		t.Fatalf("read back %d notes, err %v", n, res.Err())
	}
	w := c.Watch(50 * time.Millisecond)
	defer w.Stop()
	srv.Kill(t)
	deadline := time.Now().Add(30 * time.Second)
	for w.Check() == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := w.Check(); err == nil || !strings.Contains(err.Error(), "not answering") {
		t.Fatalf("watch after the server died: %v", err)
	}
}
