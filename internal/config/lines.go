package config

import (
	"strconv"
	"strings"
)

// lineIndex knows the line of each key and table of a TOML text, for
// errors: the TOML decoder reports positions only of what it cannot
// parse, not of values it decoded that turn out wrong.
type lineIndex struct {
	keys    map[string]int // "section.key" and "section", first occurrence
	devices []int          // the line of each [[device]]
	devKeys []map[string]int
}

// line returns the line of key ("section.key" or "section"), falling
// back to its section's; 0 when neither is known.
func (x *lineIndex) line(key string) int {
	if n, ok := x.keys[key]; ok {
		return n
	}
	if i := strings.IndexByte(key, '.'); i > 0 {
		return x.keys[key[:i]]
	}
	return 0
}

// device returns the line of the i-th [[device]] (0-based).
func (x *lineIndex) device(i int) int {
	if i < len(x.devices) {
		return x.devices[i]
	}
	return 0
}

// deviceKey returns the line of the first [[device]] key named key.
func (x *lineIndex) deviceKey(key string) int {
	for _, m := range x.devKeys {
		if n, ok := m[key]; ok {
			return n
		}
	}
	if len(x.devices) > 0 {
		return x.devices[0]
	}
	return 0
}

// indexLines scans text for table headers and key assignments. It
// understands what configuration files hold: [table], [[array]], dotted
// and quoted keys, and skips the insides of multi-line strings and
// arrays.
func indexLines(text string) *lineIndex {
	x := &lineIndex{keys: map[string]int{}}
	table, inDevice, devSub := "", false, ""
	var skipUntil string // the end of a multi-line value
	depth := 0           // open brackets of a multi-line array
	for n, raw := range strings.Split(text, "\n") {
		line := n + 1
		s := strings.TrimSpace(raw)
		if skipUntil != "" {
			if strings.Contains(s, skipUntil) {
				skipUntil = ""
			}
			continue
		}
		if depth > 0 {
			depth += brackets(s)
			continue
		}
		if s == "" || s[0] == '#' {
			continue
		}
		if s[0] == '[' {
			name := unquoteKey(strings.TrimSpace(strings.Trim(cutComment(s), "[] ")))
			switch {
			case name == "device" && strings.HasPrefix(s, "[["):
				table, inDevice, devSub = name, true, ""
				x.devices = append(x.devices, line)
				x.devKeys = append(x.devKeys, map[string]int{})
			case inDevice && strings.HasPrefix(name, "device."):
				devSub = strings.TrimPrefix(name, "device.")
				x.devKeys[len(x.devKeys)-1][devSub] = line
			default:
				table, inDevice = name, false
				x.mark(name, line)
			}
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		k = unquoteKey(strings.TrimSpace(k))
		if inDevice {
			if devSub != "" {
				k = devSub + "." + k
			}
			if m := x.devKeys[len(x.devKeys)-1]; m != nil {
				if _, dup := m[k]; !dup {
					m[k] = line
				}
			}
		} else {
			full := k
			if table != "" {
				full = table + "." + k
			}
			x.mark(full, line)
		}
		v = strings.TrimSpace(v)
		switch {
		case strings.HasPrefix(v, `"""`) && strings.Count(v, `"""`) == 1:
			skipUntil = `"""`
		case strings.HasPrefix(v, `'''`) && strings.Count(v, `'''`) == 1:
			skipUntil = `'''`
		case strings.HasPrefix(v, "["):
			depth = brackets(cutComment(v))
		}
	}
	return x
}

func (x *lineIndex) mark(key string, line int) {
	if _, ok := x.keys[key]; !ok {
		x.keys[key] = line
	}
}

// brackets returns the balance of [ and ] in s, outside strings and
// before a comment.
func brackets(s string) int {
	n := 0
	outsideStrings(s, func(_ int, c byte) bool {
		switch c {
		case '#':
			return false
		case '[':
			n++
		case ']':
			n--
		}
		return true
	})
	return n
}

// cutComment drops a trailing comment (outside strings).
func cutComment(s string) string {
	end := len(s)
	outsideStrings(s, func(i int, c byte) bool {
		if c == '#' {
			end = i
			return false
		}
		return true
	})
	return strings.TrimSpace(s[:end])
}

// outsideStrings calls fn with each byte of s that is not inside a TOML
// string, with its index, until fn returns false.
func outsideStrings(s string, fn func(i int, c byte) bool) {
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case !fn(i, c):
			return
		}
	}
}

// unquoteKey turns a TOML key (bare, quoted or dotted) into the dotted
// form toml.Key.String gives, without quotes around simple parts.
func unquoteKey(k string) string {
	var parts []string
	for k != "" {
		k = strings.TrimSpace(k)
		var part string
		switch {
		case strings.HasPrefix(k, `"`):
			end := strings.Index(k[1:], `"`)
			if end < 0 {
				return k
			}
			if u, err := strconv.Unquote(k[:end+2]); err == nil {
				part = u
			} else {
				part = k[1 : end+1]
			}
			k = k[end+2:]
		case strings.HasPrefix(k, "'"):
			end := strings.Index(k[1:], "'")
			if end < 0 {
				return k
			}
			part, k = k[1:end+1], k[end+2:]
		default:
			i := strings.IndexByte(k, '.')
			if i < 0 {
				part, k = k, ""
			} else {
				part, k = strings.TrimSpace(k[:i]), k[i:]
			}
		}
		parts = append(parts, part)
		k = strings.TrimSpace(k)
		k = strings.TrimPrefix(k, ".")
	}
	return strings.Join(parts, ".")
}
