package csv

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/decode/textnum"
)

// namedColumns classifies the names given for a file without a header
// row (Options.Columns) and picks the separator from its first data
// line: the first of comma, semicolon, tab and space that splits the line
// into exactly as many fields as there are names, all of them numbers or
// empty. Errors name the file and line and say what to change.
func (r *Reader) namedColumns(line []byte, names []string, m map[string]decode.Mapping) (byte, []column, error) {
	at := fmt.Sprintf("csv: %s:%d", r.name, r.lr.line)
	if len(names) > MaxColumns {
		return 0, nil, fmt.Errorf("%s: --columns names %d columns, more than the %d this decoder reads (csv.MaxColumns)", at, len(names), MaxColumns)
	}
	cols := make([]column, len(names))
	seen := make(map[string]bool, len(names))
	channels := 0
	for i, n := range names {
		n = strings.TrimSpace(n)
		key := strings.ToLower(n)
		switch {
		case n == "":
			return 0, nil, fmt.Errorf("%s: --columns: name %d of %d is empty", at, i+1, len(names))
		case seen[key]:
			return 0, nil, fmt.Errorf("%s: --columns names %q twice", at, n)
		}
		seen[key] = true
		c, err := classify(n, m)
		if err != nil {
			return 0, nil, fmt.Errorf("%s: --columns: %w", at, err)
		}
		if c.role == roleChannel {
			channels++
		}
		cols[i] = c
	}
	if channels == 0 {
		return 0, nil, fmt.Errorf("%s: %w: --columns names none twitchd reads (%s): use acc_x/acc_y/acc_z, emg or emg_*, or --map NAME=KIND:UNIT",
			at, ErrNoColumn, columnList(cols))
	}
	var counts []string
	for _, sep := range separators {
		fields, n := split(line, sep, make([][]byte, 0, len(names)+1))
		if n == len(names)+1 && len(fields[n-1]) == 0 {
			n-- // trailing separator
		}
		if n != len(names) {
			counts = append(counts, fmt.Sprintf("%d at %s", n, sepName(sep)))
			continue
		}
		bad, numbers := -1, 0
		for i, f := range fields[:n] {
			f = unquote(f)
			if len(f) == 0 {
				continue
			}
			if sep != ',' {
				f = []byte(strings.Replace(string(f), ",", ".", 1))
			}
			if _, ok := textnum.ParseFloat(f); ok {
				numbers++
			} else if bad < 0 {
				bad = i
			}
		}
		switch {
		case bad >= 0 && numbers == 0:
			return 0, nil, fmt.Errorf("%s: the first line (%s) looks like a header row, but --columns is for files without one: drop --columns (rename with --map)",
				at, quoteFields(fields[:n]))
		case bad >= 0:
			return 0, nil, fmt.Errorf("%s: first data row, field %d (%s): not a number: %q", at, bad+1, names[bad], clip(unquote(fields[bad])))
		}
		return sep, cols, nil
	}
	return 0, nil, fmt.Errorf("%s: --columns names %d columns, but the first data row does not split into %d fields (%s)",
		at, len(names), len(names), strings.Join(counts, ", "))
}

// sepName names a separator for messages.
func sepName(sep byte) string {
	switch sep {
	case '\t':
		return "tabs"
	case ' ':
		return "spaces"
	}
	return strconv.Quote(string(sep))
}

// quoteFields quotes the first few fields of a line for a message.
func quoteFields(fields [][]byte) string {
	q := make([]string, 0, min(len(fields), maxListed))
	for _, f := range fields[:min(len(fields), maxListed)] {
		q = append(q, strconv.Quote(clip(unquote(f))))
	}
	return strings.Join(q, ", ")
}

// MinCommentRate and MaxCommentRate bound a sample rate read from a
// comment (Hz); a rate outside them is not taken.
const (
	MinCommentRate = 1e-3
	MaxCommentRate = 1e6
)

// rateKeys are the comment keys that state a sample rate, lower case and
// without a unit.
var rateKeys = map[string]bool{
	"sampling rate": true, "sample rate": true, "sampling frequency": true,
	"sampling_rate": true, "sample_rate": true, "samplerate": true, "fs": true,
}

// commentRate reads a sample rate from a comment line of the forms
// "# Sampling Rate (Hz):= 1000.00" (BioSPPy, OpenSignals' legacy text),
// "% Sample Rate = 250 Hz" or "# fs: 100": a known key, an optional unit
// in brackets, ":=", "=" or ":", and a number of Hz, optionally followed
// by "Hz". It returns 0 for any other line and for a rate that is not
// finite or outside MinCommentRate..MaxCommentRate.
func commentRate(line []byte) float64 {
	s := strings.TrimLeft(strings.TrimSpace(string(line)), "#%")
	var key, val string
	for _, sep := range [...]string{":=", "=", ":"} {
		if k, v, ok := strings.Cut(s, sep); ok {
			key, val = k, v
			break
		}
	}
	key = strings.ToLower(strings.TrimSpace(key))
	for _, unit := range [...]string{"(hz)", "[hz]"} {
		key = strings.TrimSpace(strings.TrimSuffix(key, unit))
	}
	if !rateKeys[key] {
		return 0
	}
	val = strings.TrimSpace(val)
	if v, ok := strings.CutSuffix(strings.ToLower(val), "hz"); ok {
		val = strings.TrimSpace(v)
	}
	f, err := strconv.ParseFloat(val, 64)
	if err != nil || !(f >= MinCommentRate) || f > MaxCommentRate {
		return 0
	}
	return f
}
