package influx

import (
	"strconv"
)

// appendLine renders p as one line of InfluxDB line protocol ending in
// '\n': measurement, tags sorted by key, fields in schema order, and the
// timestamp in nanoseconds.
//
// Escaping follows the line protocol of InfluxDB 1.x and 2.x: in the
// measurement a comma or space is escaped with a backslash; in tag keys,
// tag values and field keys a comma, space or equals sign too; string
// field values are quoted with '"' and '\' escaped. Tabs, newlines, form
// feeds and carriage returns in names and tags are written as \t, \n, \f
// and \r, as influxdb-client-go does, since line protocol has no way to
// carry them there; 1.x does not unescape them, so they read back as two
// characters. A backslash that would escape the next character (one that
// ends a name or precedes a space, comma, equals sign or quote) cannot be
// expressed either and is written as '/'. String fields keep every byte
// but newlines and carriage returns, written as \n and \r (1.x reads them
// back as two characters) so that every point is exactly one line.
func (p *point) appendLine(dst []byte) []byte {
	sortTags(p.tags[:p.ntags])
	dst = appendEscaped(dst, p.measurement, false)
	for _, t := range p.tags[:p.ntags] {
		dst = append(dst, ',')
		dst = appendEscaped(dst, t.key, true)
		dst = append(dst, '=')
		dst = appendEscaped(dst, t.value, true)
	}
	for i := range p.fields {
		f := &p.fields[i]
		if i == 0 {
			dst = append(dst, ' ')
		} else {
			dst = append(dst, ',')
		}
		dst = appendEscaped(dst, f.key, true)
		dst = append(dst, '=')
		switch f.kind {
		case kindFloat:
			dst = strconv.AppendFloat(dst, f.f, 'g', -1, 64)
		case kindInt:
			dst = strconv.AppendInt(dst, f.i, 10)
			dst = append(dst, 'i')
		case kindBool:
			dst = strconv.AppendBool(dst, f.i != 0)
		case kindString:
			dst = appendStringField(dst, f.s)
		}
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, p.time, 10)
	return append(dst, '\n')
}

// sortTags sorts a handful of tags by key (insertion sort: no allocation).
func sortTags(ts []tag) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].key < ts[j-1].key; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// appendEscaped appends a measurement name (key false) or a tag key, tag
// value or field key (key true) with line protocol escapes.
func appendEscaped(dst []byte, s string, key bool) []byte {
	if !needsEscape(s) {
		return append(dst, s...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ',', ' ':
			dst = append(dst, '\\', c)
		case '=':
			if key {
				dst = append(dst, '\\')
			}
			dst = append(dst, c)
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\\':
			if i+1 == len(s) || isEscapable(s[i+1]) {
				dst = append(dst, '/')
			} else {
				dst = append(dst, c)
			}
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// needsEscape reports whether s has a byte appendEscaped changes.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', ' ', '=', '\t', '\n', '\f', '\r', '\\':
			return true
		}
	}
	return false
}

// isEscapable reports whether a backslash before c would be read as an
// escape by InfluxDB (pkg/escape: comma, space, equals sign, quote).
func isEscapable(c byte) bool {
	return c == ',' || c == ' ' || c == '=' || c == '"'
}

// appendStringField appends s as a quoted string field value.
func appendStringField(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
