package spool

import "testing"

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
	}{
		{"268435456", 268435456},
		{"256MiB", 256 << 20},
		{" 1 GiB ", 1 << 30},
		{"12KiB", 12 << 10},
		{"5k", 5000},
		{"2M", 2_000_000},
		{"3G", 3_000_000_000},
		{"100B", 100},
		{"0", 0},
		{"-5", 0},
		{"lots", 0},
		{"9999999999GiB", 0},
	}
	for _, c := range cases {
		got, err := ParseSize(c.in)
		if (err == nil) != (c.want > 0) || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	var s Size
	if err := s.UnmarshalText([]byte("1MiB")); err != nil || s != 1<<20 || s.String() != "1048576" {
		t.Fatalf("Size from text: %d %v", s, err)
	}
}
