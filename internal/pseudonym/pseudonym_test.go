package pseudonym

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestSubject(t *testing.T) {
	k, err := New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := New([]byte("another key of 16+ bytes"))
	p := k.Subject("alice")
	if !regexp.MustCompile(`^p-[0-9a-f]{16}$`).MatchString(p) {
		t.Fatalf("pseudonym %q is not p- and 16 hex digits", p)
	}
	if p != k.Subject("alice") || p == other.Subject("alice") || p == k.Subject("bob") {
		t.Fatalf("pseudonym %q is not a keyed hash of the subject", p)
	}
	// HMAC-SHA256("0123456789abcdef0123456789abcdef", "alice"), by Python's hmac module.
	if p != "p-433deb45467e4e53" {
		t.Fatalf("pseudonym %q changed: recordings already stored under the old one would no longer meet", p)
	}
	if (Key{}).Subject("alice") != "alice" {
		t.Fatal("the zero Key changed the subject")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, path, err string
		set             bool
	}{
		{"none", "", "", false},
		{"trailing newline trimmed", write("k", "0123456789abcdef0123456789abcdef\n"), "", true},
		{"short", write("short", "short\n"), "at least 16 bytes", false},
		{"missing", filepath.Join(dir, "nope"), "no such file", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := Load(c.path)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || k.Set() != c.set {
				t.Fatalf("key set %v, err %v", k.Set(), err)
			}
		})
	}
	k, _ := Load(filepath.Join(dir, "k"))
	direct, _ := New([]byte("0123456789abcdef0123456789abcdef"))
	if k.Subject("alice") != direct.Subject("alice") {
		t.Fatal("a key file with a newline gives another pseudonym than the key")
	}
}
