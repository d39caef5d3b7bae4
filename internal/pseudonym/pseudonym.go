// Package pseudonym replaces a person's name by a keyed hash, so that
// events files, InfluxDB and logs never hold the name, while the same
// person keeps the same pseudonym across recordings (and the person's
// history, notes and reports meet) as long as the key is kept.
package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// MinKeyLen is the shortest key accepted, in bytes.
const MinKeyLen = 16

// Prefix starts every pseudonym.
const Prefix = "p-"

// Key is a secret key; the zero Key pseudonymises nothing.
type Key struct{ k []byte }

// Load reads a key from the file at path: its content without leading
// and trailing white space, at least MinKeyLen bytes. An empty path
// gives the zero Key.
func Load(path string) (Key, error) {
	if path == "" {
		return Key{}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Key{}, fmt.Errorf("pseudonymisation key: %w", err)
	}
	k, err := New([]byte(strings.TrimSpace(string(b))))
	if err != nil {
		return Key{}, fmt.Errorf("pseudonymisation key %s: %w", path, err)
	}
	return k, nil
}

// New returns the Key k, which must be at least MinKeyLen bytes.
func New(k []byte) (Key, error) {
	if len(k) < MinKeyLen {
		return Key{}, fmt.Errorf("the key must be at least %d bytes", MinKeyLen)
	}
	return Key{k: append([]byte(nil), k...)}, nil
}

// Set reports whether k pseudonymises.
func (k Key) Set() bool { return len(k.k) > 0 }

// Subject returns the pseudonym of subject: Prefix and the first 16 hex
// digits (64 bits) of HMAC-SHA256(key, subject). The zero Key returns
// subject unchanged.
func (k Key) Subject(subject string) string {
	if !k.Set() {
		return subject
	}
	m := hmac.New(sha256.New, k.k)
	m.Write([]byte(subject))
	return Prefix + hex.EncodeToString(m.Sum(nil))[:16]
}
