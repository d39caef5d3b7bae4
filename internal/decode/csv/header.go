package csv

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/pipeline"
)

// separators are the candidates, in order of preference on a tie.
var separators = [...]byte{',', ';', '\t', ' '}

// split cuts line at sep into dst, trimming spaces and tabs around each
// field, and returns the number of fields found, which may exceed
// cap(dst): the surplus is counted but not stored. With sep ' ' a run of
// spaces is one separator and leading or trailing spaces make no field.
// It does not allocate.
func split(line []byte, sep byte, dst [][]byte) ([][]byte, int) {
	dst = dst[:0]
	n := 0
	add := func(f []byte) {
		if n < cap(dst) {
			dst = append(dst, trimSpace(f))
		}
		n++
	}
	if sep == ' ' {
		i := 0
		for {
			for i < len(line) && line[i] == ' ' {
				i++
			}
			if i == len(line) {
				return dst, n
			}
			j := i
			for j < len(line) && line[j] != ' ' {
				j++
			}
			add(line[i:j])
			i = j
		}
	}
	for {
		j := indexByte(line, sep)
		if j < 0 {
			add(line)
			return dst, n
		}
		add(line[:j])
		line = line[j+1:]
	}
}

// indexByte is a small-line bytes.IndexByte: for fields of a few bytes the
// plain loop beats the call into the vectorised search.
func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// trimSpace drops spaces and tabs at both ends.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// unquote drops one pair of surrounding double quotes. Quoted fields with
// separators inside are not supported: cells here are names and numbers.
func unquote(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return trimSpace(b[1 : len(b)-1])
	}
	return b
}

// skippable reports whether line is blank or a comment (# or %).
func skippable(line []byte) bool {
	for _, c := range line {
		switch c {
		case ' ', '\t', '\r':
			continue
		case '#', '%':
			return true
		}
		return false
	}
	return true
}

// role says what the reader does with a column.
type role uint8

const (
	roleIgnore  role = iota // unrecognised: never parsed
	roleTime                // the time column
	roleChannel             // a value column
)

// column is one header column, classified.
type column struct {
	name   string // as in the header, trimmed and unquoted
	role   role
	ch     pipeline.Channel
	scale  float64 // source unit to canonical unit
	offset float64 // added after scale (a --map offset, in the canonical unit)
	timeNS int64   // time column: ns per unit when the header names one, else 0
}

// timeNames are the time column names, lower case.
var timeNames = map[string]bool{"time": true, "timestamp": true, "t": true, "unix_time": true}

// timeUnits maps a unit suffix of a time column to nanoseconds per unit.
var timeUnits = map[string]int64{"s": 1e9, "sec": 1e9, "ms": 1e6, "us": 1e3, "µs": 1e3, "μs": 1e3, "ns": 1}

// accPrefixes are the accelerometer name prefixes before the axis letter.
var accPrefixes = []string{"accelerometer", "acceleration", "accel", "acc", "a", ""}

// rawUnits mark a column of raw converter counts, which twitchd cannot
// turn into physical units without the device's calibration.
var rawUnits = map[string]bool{"adc": true, "raw": true, "counts": true, "count": true}

// splitUnit separates a unit from a lower-cased column name: "emg (uv)",
// "acc_x[mg]" and "acc_x [mg]" give an explicit unit; "emg_uv" or
// "acc_x_ms2" give a suffix unit, honoured only when valid for the
// column's kind (so "emg_calf" stays a name). explicit reports brackets.
func splitUnit(key string) (base, unit string, explicit bool) {
	for _, br := range [...][2]byte{{'(', ')'}, {'[', ']'}} {
		if strings.HasSuffix(key, string(br[1])) {
			if i := strings.LastIndexByte(key, br[0]); i > 0 {
				return strings.TrimSpace(key[:i]), strings.TrimSpace(key[i+1 : len(key)-1]), true
			}
		}
	}
	if i := strings.LastIndexAny(key, "_ "); i > 0 {
		return strings.TrimSpace(key[:i]), key[i+1:], false
	}
	return key, "", false
}

// accName recognises an accelerometer axis name such as acc_x, ax,
// accel_y, accelerometer z, acc2_x or a bare x, returning the group (the
// prefix, "acc" for a bare axis) and the axis letter.
func accName(base string) (group string, axis byte, ok bool) {
	if base == "" {
		return "", 0, false
	}
	axis = base[len(base)-1]
	if axis != 'x' && axis != 'y' && axis != 'z' {
		return "", 0, false
	}
	p := base[:len(base)-1]
	if n := len(p); n > 0 && strings.IndexByte("_ .-", p[n-1]) >= 0 {
		p = p[:n-1]
		if p == "" {
			return "", 0, false
		}
	}
	for _, a := range accPrefixes {
		rest, found := strings.CutPrefix(p, a)
		if !found || strings.Trim(rest, "0123456789") != "" {
			continue
		}
		if p == "" {
			return "acc", axis, true
		}
		return p, axis, true
	}
	return "", 0, false
}

// emgName recognises emg, emg_1, emg_calf, emg1, "emg 2".
func emgName(base string) bool {
	rest, ok := strings.CutPrefix(base, "emg")
	if !ok {
		return false
	}
	return rest == "" || strings.IndexByte("_ .-0123456789", rest[0]) >= 0
}

// classify decides a column's role from its name and the --map overrides.
// It returns an error only for a unit it cannot convert.
func classify(name string, m map[string]decode.Mapping) (column, error) {
	c := column{name: name, scale: 1}
	key := strings.ToLower(name)
	base, unit, explicit := splitUnit(key)
	if mp, k, ok := lookupMap(m, name); ok {
		return mapped(c, k, mp)
	}
	// Try the name with its suffix unit first, then the whole name.
	cands := [...]struct{ base, unit string }{{base, unit}, {key, ""}}
	for i, cd := range cands {
		if i == 1 && (explicit || unit == "") {
			break
		}
		if timeNames[cd.base] {
			if cd.unit == "" {
				c.role = roleTime
				return c, nil
			}
			if ns, ok := timeUnits[cd.unit]; ok {
				c.role, c.timeNS = roleTime, ns
				return c, nil
			}
			continue // "Timestamp (Formatted)" and the like: not ours
		}
		var kind pipeline.Kind
		var group string
		var axis byte
		if g, a, ok := accName(cd.base); ok {
			kind, group, axis = pipeline.KindAcc, g, a
		} else if emgName(cd.base) {
			kind = pipeline.KindEMG
		} else {
			continue
		}
		if rawUnits[cd.unit] {
			c.role = roleChannel
			c.ch = pipeline.Channel{Name: name, Kind: pipeline.KindOther, Unit: "adc", SourceUnit: "adc"}
			return c, nil
		}
		scale, err := decode.Scale(kind, cd.unit)
		if err != nil {
			if explicit {
				return c, fmt.Errorf("column %q: %w", name, err)
			}
			continue // "emg_calf": the suffix is part of the name
		}
		src := cd.unit
		if src == "" {
			src = decode.CanonicalUnit(kind)
		}
		c.role, c.scale = roleChannel, scale
		c.ch = pipeline.Channel{Name: name, Kind: kind, Unit: decode.CanonicalUnit(kind),
			SourceUnit: src, Axis: axis, Group: group}
		return c, nil
	}
	return c, nil
}

// mapKeys are the --map keys that name a column: its lower-cased name,
// and that name without its unit when the unit is in brackets or is a
// unit suffix twitchd knows ("emg_uv" answers to "emg_uv" and "emg", but
// "emg_1" not to "emg").
func mapKeys(name string) []string {
	key := strings.ToLower(name)
	base, unit, explicit := splitUnit(key)
	if unit != "" && (explicit || knownUnit(unit)) {
		return []string{key, base}
	}
	return []string{key}
}

// knownUnit reports whether u is a unit of any kind or of time.
func knownUnit(u string) bool {
	_, acc := decode.Scale(pipeline.KindAcc, u)
	_, emg := decode.Scale(pipeline.KindEMG, u)
	_, tu := timeUnits[u]
	return acc == nil || emg == nil || tu || rawUnits[u]
}

// lookupMap finds the override for a column, returning the key it
// matched: an exact key first, else the longest pattern ("emg_*") whose
// prefix the lower-cased name starts with.
func lookupMap(m map[string]decode.Mapping, name string) (decode.Mapping, string, bool) {
	for _, k := range mapKeys(name) {
		if mp, ok := m[k]; ok {
			return mp, k, true
		}
	}
	key, best := strings.ToLower(name), ""
	for k := range m {
		if p, ok := strings.CutSuffix(k, "*"); ok && strings.HasPrefix(key, p) && len(k) > len(best) {
			best = k
		}
	}
	if best != "" {
		return m[best], key, true
	}
	return decode.Mapping{}, "", false
}

// mapMatches reports whether the --map key k names the column called name.
func mapMatches(k, name string) bool {
	if p, ok := strings.CutSuffix(k, "*"); ok {
		return strings.HasPrefix(strings.ToLower(name), p)
	}
	return slices.Contains(mapKeys(name), k)
}

// mapped builds a column from a --map override.
func mapped(c column, key string, mp decode.Mapping) (column, error) {
	a, b, err := mp.Linear()
	if err != nil {
		return c, fmt.Errorf("column %q mapped to %s: %w", c.name, mp, err)
	}
	c.role, c.scale, c.offset = roleChannel, a, b
	c.ch = pipeline.Channel{Name: c.name, Kind: mp.Kind, SourceUnit: mp.Unit}
	if mp.Transfer != "" || mp.Scale != 0 {
		c.ch.SourceUnit = "adc"
	}
	switch mp.Kind {
	case pipeline.KindOther:
		c.ch.Unit = mp.Unit
	default:
		c.ch.Unit = decode.CanonicalUnit(mp.Kind)
		if c.ch.SourceUnit == "" {
			c.ch.SourceUnit = c.ch.Unit
		}
	}
	if mp.Kind == pipeline.KindAcc {
		c.ch.Group, c.ch.Axis = mappedAxis(key)
	}
	return c, nil
}

// mappedAxis finds group and axis of a column mapped to the
// accelerometer: a recognised name as usual, else a final x, y or z after
// a separator ("wrist_x" is axis x of group "wrist"), else no axis and the
// name as the group.
func mappedAxis(key string) (string, byte) {
	for _, k := range [...]string{key, baseName(key)} {
		if g, a, ok := accName(k); ok {
			return g, a
		}
		if n := len(k); n >= 3 && strings.IndexByte("xyz", k[n-1]) >= 0 && strings.IndexByte("_ .-", k[n-2]) >= 0 {
			return k[:n-2], k[n-1]
		}
	}
	return baseName(key), 0
}

// parseHeader finds the separator and classifies the columns of a header
// line. The separator is the candidate that yields the most recognised
// columns; on a tie a comma, semicolon or tab that splits the line beats
// space, and then the one giving the most fields wins. That is "the one
// that splits it into the most fields" made robust against names with
// spaces, such as "Accelerometer X,Accelerometer Y".
func parseHeader(line []byte, m map[string]decode.Mapping) (byte, []column, error) {
	var best []column
	bestSep, bestRec, bestN := byte(','), -1, -1
	var bestErr error
	tooMany := 0
	for _, sep := range separators {
		_, n := split(line, sep, nil)
		if n > MaxColumns+1 { // +1: a trailing separator
			if sep != ' ' {
				return 0, nil, tooManyColumns(n)
			}
			tooMany = n // spaces may be inside names: try the others
			continue
		}
		fields, _ := split(line, sep, make([][]byte, 0, n))
		for len(fields) > 1 && len(fields[len(fields)-1]) == 0 {
			fields = fields[:len(fields)-1] // trailing separator
		}
		cols := make([]column, len(fields))
		rec := 0
		var err error
		for i, f := range fields {
			var e error
			cols[i], e = classify(string(unquote(f)), m)
			if e != nil && err == nil {
				err = e
			}
			if e != nil || cols[i].role != roleIgnore {
				rec++
			}
		}
		// Rank: recognised columns, then a real separator over spaces
		// (names like "Sample Index" hold spaces), then the field count.
		n = len(cols)
		if sep != ' ' && n > 1 {
			n += 1 << 20
		}
		if rec > bestRec || (rec == bestRec && n > bestN) {
			best, bestSep, bestRec, bestN, bestErr = cols, sep, rec, n, err
		}
	}
	if tooMany > 0 && bestRec <= 0 {
		return 0, nil, tooManyColumns(tooMany)
	}
	if bestErr != nil {
		return 0, nil, bestErr
	}
	return bestSep, best, nil
}

func tooManyColumns(n int) error {
	return fmt.Errorf("header has %d columns, more than the %d this decoder reads (csv.MaxColumns)", n, MaxColumns)
}

// textLine reports whether a header line is text: valid UTF-8 without
// control characters other than tab.
func textLine(line []byte) bool {
	for _, c := range line {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return utf8.Valid(line)
}

// noColumnError explains a header without a usable column.
func noColumnError(cols []column) string {
	numbers := 0
	for _, c := range cols {
		if _, err := strconv.ParseFloat(c.name, 64); err == nil {
			numbers++
		}
	}
	if 2*numbers >= len(cols) { // names are not numbers: this is a data row
		what := fmt.Sprintf("the %d columns", len(cols))
		if len(cols) == 1 {
			what = "its column"
		}
		return fmt.Sprintf("first line (%s) looks like data, not a header: name %s with --columns (e.g. --columns %s), or add a header row naming them (time, acc_x, acc_y, acc_z, emg, ...)",
			columnList(cols), what, columnsExample(len(cols)))
	}
	ex := "NAME"
	if len(cols) > 0 && cols[0].name != "" && len(cols[0].name) <= maxQuoted {
		ex = strings.ToLower(cols[0].name)
	}
	return fmt.Sprintf("the header names none twitchd reads (saw %s): name accelerometer columns acc_x/acc_y/acc_z and EMG columns emg or emg_*, or map a column with --map %s=emg:uV (kinds acc, emg, other)",
		columnList(cols), ex)
}

// columnsExample suggests --columns names for n columns.
func columnsExample(n int) string {
	switch n {
	case 1:
		return "emg"
	case 3:
		return "acc_x,acc_y,acc_z"
	case 4:
		return "time,acc_x,acc_y,acc_z"
	}
	return "emg_1,emg_2,..."
}

// baseName is a lower-cased column name without its unit.
func baseName(key string) string {
	b, _, _ := splitUnit(key)
	return b
}

// maxListed bounds the column names an error message quotes, and
// maxQuoted the bytes quoted of each.
const (
	maxListed = 32
	maxQuoted = 64
)

// columnList quotes the column names for a message, the first maxListed
// of them.
func columnList(cols []column) string {
	names := make([]string, 0, min(len(cols), maxListed)+1)
	for _, c := range cols[:min(len(cols), maxListed)] {
		if len(c.name) > maxQuoted {
			names = append(names, strconv.Quote(c.name[:maxQuoted])+fmt.Sprintf("... (%d bytes)", len(c.name)))
			continue
		}
		names = append(names, strconv.Quote(c.name))
	}
	if len(cols) > maxListed {
		names = append(names, fmt.Sprintf("... %d more", len(cols)-maxListed))
	}
	return strings.Join(names, ", ")
}

// Sniff scores head as a delimited text file: 10 when its first line that
// is neither blank nor a comment is a header naming at least one
// accelerometer or EMG column, 0 otherwise. The score is modest so that
// formats with a recognisable signature outrank it.
func Sniff(head []byte, name string) int {
	if bytes.IndexByte(head, 0) >= 0 {
		return 0
	}
	if len(head) >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF {
		head = head[3:]
	}
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line = trimEOL(line)
		if skippable(line) {
			continue
		}
		if !textLine(line) {
			return 0
		}
		_, cols, err := parseHeader(line, nil)
		if err != nil {
			return 0
		}
		for _, c := range cols {
			if c.role == roleChannel {
				return 10
			}
		}
		return 0
	}
	return 0
}
