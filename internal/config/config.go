// Package config reads twitchd's configuration file: one TOML file that
// holds every setting of "twitchd run" and "twitchd replay" (InfluxDB,
// the spool, the health endpoint, pseudonymisation, the events file, the
// devices, and the detectors' and persistence rule's thresholds), so that
// a service is configured in one place. Command-line flags override it.
//
// The token is never read from it: a file others can read is the wrong
// place for a secret, so a token key is an error that says where the
// token goes (a token file of mode 0600, or INFLUX_TOKEN).
//
// Errors name the file, the line and the key: unknown keys (usually
// typos), values of the wrong type, and values out of range, all of
// them at once. Sample returns a commented file with every key at its
// default.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/twitchd/twitchd/internal/archive"
	"github.com/twitchd/twitchd/internal/ingest"
	"github.com/twitchd/twitchd/internal/source/serial"
)

// MaxSize bounds a configuration file.
const MaxSize = 1 << 20

// Settings are what a configuration file, and then the flags, set for
// run and replay.
type Settings struct {
	// Ingest is the run; the command fills in its Files or Device.
	Ingest ingest.Config
	// File holds the decoding settings every replayed file gets:
	// format, rate, columns, start, strict and column mappings.
	File ingest.File
	// Device names the [[device]] that run collects from.
	Device string
	// LogLevel is the least level logged ("debug", "info", "warn" or
	// "error"); empty: the command's default.
	LogLevel string
	// Devices are the file's [[device]] tables.
	Devices []serial.Device
	// Shard, FilesFrom and Include select the files of a replay (see
	// package archive): Shard.Count 0 means all of them.
	Shard     archive.Shard
	FilesFrom string
	Include   []string
	// SubjectFromDir makes each replayed file's subject the name of its
	// directory.
	SubjectFromDir bool
}

// Defaults returns the settings without a configuration file: those of
// ingest.Defaults, with the default spool directory.
func Defaults() Settings {
	s := Settings{Ingest: ingest.Defaults()}
	s.Ingest.Spool.Root = ingest.DefaultSpoolRoot()
	s.Ingest.LiveClock = &serial.Clock{StepLimit: serial.DefaultStepLimit}
	return s
}

// Level returns LogLevel as a slog.Level, def when it is empty.
func (s *Settings) Level(def slog.Level) slog.Level {
	var l slog.Level
	if s.LogLevel == "" || l.UnmarshalText([]byte(s.LogLevel)) != nil {
		return def
	}
	return l
}

// FindDevice returns the [[device]] named name, or the only one when
// name is empty; ok is false when the file has none.
func (s *Settings) FindDevice(name string) (dev serial.Device, ok bool, err error) {
	if len(s.Devices) == 0 {
		if name != "" {
			return serial.Device{}, false, fmt.Errorf("config: no [[device]] named %q", name)
		}
		return serial.Device{}, false, nil
	}
	if name == "" {
		if len(s.Devices) == 1 {
			return s.Devices[0], true, nil
		}
		return serial.Device{}, false, fmt.Errorf("config: %d devices: choose one with --device or run.device", len(s.Devices))
	}
	for _, d := range s.Devices {
		if d.Name == name {
			return d, true, nil
		}
	}
	return serial.Device{}, false, fmt.Errorf("config: no [[device]] named %q", name)
}

// Error is one problem in a configuration file.
type Error struct {
	File string
	// Line is 1-based, 0 when unknown.
	Line int
	// Key is the dotted key, e.g. "spool.max"; empty when the problem is
	// not one key's.
	Key string
	Msg string
}

// Error implements error: "file:line: key: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors are every problem found in a file, in the order of their lines.
type Errors []*Error

// Error implements error: one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// File is a parsed and checked configuration file.
type File struct {
	// Path names the file in errors.
	Path string
	// vals holds the value of every key present, converted.
	vals    map[string]any
	devices []serial.Device
}

// Load reads, parses and checks the configuration file at path. Its
// error is Errors when the file itself is at fault.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("larger than %d bytes", MaxSize)}}
	}
	return Parse(path, string(data))
}

// Parse parses and checks configuration text; name is used in errors.
// It returns Errors listing every problem.
func Parse(name, text string) (*File, error) {
	p := &parser{file: &File{Path: name, vals: map[string]any{}}, lines: indexLines(text)}
	var doc map[string]any
	if _, err := toml.Decode(text, &doc); err != nil {
		p.tomlError(err)
		return nil, p.errs
	}
	p.document(doc)
	p.devices(text)
	if len(p.errs) == 0 {
		p.check()
	}
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
		return nil, p.errs
	}
	return p.file, nil
}

// Apply sets in s what the file sets, and nothing else.
func (f *File) Apply(s *Settings) {
	for _, k := range allKeys() {
		if v, ok := f.vals[k.full()]; ok {
			k.set(s, v)
		}
	}
	if len(f.devices) > 0 {
		s.Devices = append([]serial.Device(nil), f.devices...)
	}
}

// Count returns how many keys the file sets ([[device]] tables aside).
func (f *File) Count() int { return len(f.vals) }

// Has reports whether the file sets key (e.g. "influx.url").
func (f *File) Has(key string) bool {
	_, ok := f.vals[key]
	return ok
}

// parser collects what Parse finds.
type parser struct {
	file  *File
	lines *lineIndex
	errs  Errors
}

func (p *parser) fail(key, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file.Path, Line: p.lines.line(key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

// tomlLine finds the line and key in the errors the TOML decoder makes.
var tomlLine = regexp.MustCompile(`^toml: line (\d+)(?: \(last key "([^"]*)"\))?: (.*)$`)

// tomlError records an error of the TOML decoder with its position.
func (p *parser) tomlError(err error) {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		p.errs = append(p.errs, &Error{File: p.file.Path, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message})
		return
	}
	if m := tomlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		p.errs = append(p.errs, &Error{File: p.file.Path, Line: line, Key: m[2], Msg: m[3]})
		return
	}
	p.errs = append(p.errs, &Error{File: p.file.Path, Msg: err.Error()})
}

// secretKeys are keys that would hold a secret: refused, with where the
// secret goes instead.
var secretKeys = map[string]string{
	"token":    "the InfluxDB token is not read from the configuration file: put it in a file of mode 0600 named by influx.token_file (or --influx-token-file), or in the environment variable INFLUX_TOKEN",
	"password": "passwords are not read from the configuration file: for InfluxDB 1.8 put user:password in the token file named by influx.token_file, or in INFLUX_TOKEN",
}

// document walks the decoded document: sections, then their keys.
func (p *parser) document(doc map[string]any) {
	for _, sec := range sortedKeys(doc) {
		if sec == "device" {
			continue // devices reads them
		}
		if msg, ok := secretKeys[sec]; ok {
			p.fail(sec, "%s", msg)
			continue
		}
		keys, known := sections[sec]
		if !known {
			p.fail(sec, "unknown section or key (want %s)", strings.Join(sectionNames(), ", "))
			continue
		}
		table, ok := doc[sec].(map[string]any)
		if !ok {
			p.fail(sec, "must be a table ([%s])", sec)
			continue
		}
		for _, name := range sortedKeys(table) {
			full := sec + "." + name
			if msg, ok := secretKeys[name]; ok {
				p.fail(full, "%s", msg)
				continue
			}
			k, ok := keys[name]
			if !ok {
				p.fail(full, "unknown key (%s has %s)", sec, strings.Join(keyNames(sec), ", "))
				continue
			}
			v, err := k.convert(table[name])
			if err != nil {
				p.fail(full, "%v", err)
				continue
			}
			p.file.vals[full] = v
		}
	}
}

// devices decodes the [[device]] tables with the protocols' own
// settings (serial.DecodeDevice) and checks them.
func (p *parser) devices(text string) {
	var raw struct {
		Devices []toml.Primitive `toml:"device"`
	}
	md, err := toml.Decode(text, &raw)
	if err != nil {
		return // reported by document
	}
	seen := map[string]int{}
	for i, prim := range raw.Devices {
		where := fmt.Sprintf("device %d", i+1)
		d, err := serial.DecodeDevice(md, prim)
		if err == nil {
			err = d.Check()
		}
		if err != nil {
			if tomlLine.MatchString(err.Error()) {
				p.tomlError(err)
			} else {
				p.errs = append(p.errs, &Error{File: p.file.Path, Line: p.lines.device(i), Key: where, Msg: err.Error()})
			}
			continue
		}
		if j, dup := seen[d.Name]; dup && d.Name != "" {
			p.errs = append(p.errs, &Error{File: p.file.Path, Line: p.lines.device(i), Key: where,
				Msg: fmt.Sprintf("named %q like device %d", d.Name, j+1)})
		}
		seen[d.Name] = i
		p.file.devices = append(p.file.devices, d)
	}
	for _, k := range md.Undecoded() {
		if len(k) < 2 || k[0] != "device" {
			continue
		}
		name := k[len(k)-1]
		if msg, ok := secretKeys[name]; ok {
			p.errs = append(p.errs, &Error{File: p.file.Path, Line: p.lines.deviceKey(k[1:].String()), Key: k.String(), Msg: msg})
			continue
		}
		p.errs = append(p.errs, &Error{File: p.file.Path, Line: p.lines.deviceKey(k[1:].String()), Key: k.String(),
			Msg: "unknown key (a device has name, port, baud, protocol, subject, site and its protocol's settings; give protocol = ... in the same [[device]])"})
	}
}

// check applies the file to the defaults and checks what holds only for
// the whole: the detectors' and the rule's own validation.
func (p *parser) check() {
	s := Defaults()
	p.file.Apply(&s)
	if err := s.Ingest.Detect.Validate(); err != nil {
		p.fail(p.keyIn("detect", err.Error()), "%v", err)
	}
	if err := s.Ingest.Rule.Validate(); err != nil {
		p.fail(p.keyIn("rule", err.Error()), "%v", err)
	}
	if s.Ingest.Health.Addr != "" {
		if err := checkListen(s.Ingest.Health.Addr, s.Ingest.Health.AllowAny); err != nil {
			p.fail("health.listen", "%v", err)
		}
	}
}

// keyIn returns the key of section that msg names (by its TOML name, its
// Go field name or with dashes), the section itself when none.
func (p *parser) keyIn(section, msg string) string {
	best, at := section, len(msg)+1
	for _, k := range keyNames(section) {
		full := section + "." + k
		for _, form := range []string{k, strings.ReplaceAll(k, "_", "-"), sections[section][k].field} {
			if form == "" {
				continue
			}
			if i := indexWord(msg, form); i >= 0 && i < at && p.file.Has(full) {
				best, at = full, i
			}
		}
	}
	return best
}

// indexWord returns where word stands alone in s, -1 when it does not.
func indexWord(s, word string) int {
	for from := 0; ; {
		i := strings.Index(s[from:], word)
		if i < 0 {
			return -1
		}
		i += from
		before := i == 0 || !isWordByte(s[i-1])
		after := i+len(word) == len(s) || !isWordByte(s[i+len(word)])
		if before && after {
			return i
		}
		from = i + 1
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
