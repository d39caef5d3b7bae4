package spool

import (
	"errors"
	"strconv"
	"strings"
)

// Size is a number of bytes that reads an optional unit: k, M, G (powers
// of 1000) or KiB, MiB, GiB (powers of 1024), e.g. "256MiB". It is a
// flag.Value and an encoding.TextUnmarshaler, for flags and
// configuration files alike.
type Size int64

// String implements flag.Value.
func (b *Size) String() string { return strconv.FormatInt(int64(*b), 10) }

// Set implements flag.Value.
func (b *Size) Set(s string) error {
	n, err := ParseSize(s)
	if err != nil {
		return err
	}
	*b = Size(n)
	return nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *Size) UnmarshalText(text []byte) error { return b.Set(string(text)) }

// ParseSize reads a positive size with an optional unit (see Size).
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, errors.New("want a positive size such as 268435456, 256MiB or 1GiB")
	}
	return n * mult, nil
}
