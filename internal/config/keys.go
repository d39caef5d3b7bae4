package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/health"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/internal/spool"
)

// kind is how a key's value is written in TOML and read into Go.
type kind uint8

const (
	kString   kind = iota // a string
	kBool                 // true or false
	kFloat                // a finite number
	kInt                  // an integer
	kDuration             // "10s", "5m", "14d", "1d12h"
	kSize                 // "256MiB", "1GiB", or a number of bytes
	kStrings              // ["a", "b"]
	kTime                 // an RFC 3339 date-time, or "" for none
	kMappings             // a table of COLUMN = "KIND:UNIT,..." (decode.ParseMapping)
	kLocation             // an IANA time zone name, e.g. "UTC" or "Europe/Berlin"
)

// key is one setting of the file.
type key struct {
	section, name string
	// field is the Go field a detect or rule key stands for.
	field string
	kind  kind
	// flags are the command-line flags that override the key.
	flags []string
	doc   string
	// ptr returns where in s the value goes.
	ptr func(s *Settings) any
	// check, when set, checks the converted value.
	check func(v any) error
}

func (k *key) full() string { return k.section + "." + k.name }

// set stores v (converted by convert) where the key's value goes.
func (k *key) set(s *Settings, v any) {
	reflect.ValueOf(k.ptr(s)).Elem().Set(reflect.ValueOf(v))
}

// get returns the key's value in s.
func (k *key) get(s *Settings) any {
	return reflect.ValueOf(k.ptr(s)).Elem().Interface()
}

// convert turns a decoded TOML value into the key's Go type, and checks it.
func (k *key) convert(raw any) (any, error) {
	v, err := convert(k.kind, raw)
	if err == nil && k.check != nil {
		err = k.check(v)
	}
	if err != nil {
		return nil, err
	}
	if k.kind == kInt {
		// The field's own integer type.
		return reflect.ValueOf(v).Convert(reflect.TypeOf(k.get(&Settings{}))).Interface(), nil
	}
	return v, nil
}

func convert(kd kind, raw any) (any, error) {
	switch kd {
	case kString:
		if s, ok := raw.(string); ok {
			return s, nil
		}
		return nil, typeError("a string", raw)
	case kBool:
		if b, ok := raw.(bool); ok {
			return b, nil
		}
		return nil, typeError("true or false", raw)
	case kFloat:
		switch x := raw.(type) {
		case int64:
			return float64(x), nil
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, errors.New("want a finite number")
			}
			return x, nil
		}
		return nil, typeError("a number", raw)
	case kInt:
		if n, ok := raw.(int64); ok {
			if n < math.MinInt32 || n > math.MaxInt32 {
				return nil, fmt.Errorf("%d is out of range", n)
			}
			return int(n), nil
		}
		return nil, typeError("an integer", raw)
	case kDuration:
		if s, ok := raw.(string); ok {
			d, err := parseDuration(s)
			if err == nil && d < 0 {
				err = fmt.Errorf("%q is negative", s)
			}
			return d, err
		}
		return nil, typeError(`a duration such as "10s", "5m" or "14d"`, raw)
	case kSize:
		switch x := raw.(type) {
		case string:
			return spool.ParseSize(x)
		case int64:
			if x > 0 {
				return x, nil
			}
		}
		return nil, typeError(`a size such as "256MiB" or "1GiB"`, raw)
	case kStrings:
		list, ok := raw.([]any)
		if !ok {
			return nil, typeError(`a list of strings such as ["a", "b"]`, raw)
		}
		out := make([]string, len(list))
		for i, e := range list {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("item %d: %w", i+1, typeError("a string", e))
			}
			out[i] = s
		}
		return out, nil
	case kTime:
		switch x := raw.(type) {
		case time.Time:
			return x, nil
		case string:
			if x == "" {
				return time.Time{}, nil
			}
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return nil, fmt.Errorf("want an RFC 3339 time such as 2026-11-25T10:00:00Z: %w", err)
			}
			return t, nil
		}
		return nil, typeError("an RFC 3339 time", raw)
	case kMappings:
		table, ok := raw.(map[string]any)
		if !ok {
			return nil, typeError(`a table of COLUMN = "KIND:UNIT"`, raw)
		}
		out := make(map[string]decode.Mapping, len(table))
		for _, col := range sortedKeys(table) {
			spec, ok := table[col].(string)
			if !ok {
				return nil, fmt.Errorf("%s: %w", col, typeError(`"KIND:UNIT"`, table[col]))
			}
			m, err := decode.ParseMapping(spec)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", col, err)
			}
			out[strings.ToLower(strings.TrimSpace(col))] = m
		}
		return out, nil
	case kLocation:
		if s, ok := raw.(string); ok {
			loc, err := time.LoadLocation(s)
			if err != nil {
				return nil, fmt.Errorf("time zone %q: %w", s, err)
			}
			return loc, nil
		}
		return nil, typeError(`a time zone name such as "UTC" or "Europe/Berlin"`, raw)
	}
	panic("config: unknown kind")
}

// typeError says what a value should have been.
func typeError(want string, got any) error {
	return fmt.Errorf("want %s, not %s", want, tomlType(got))
}

func tomlType(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", x)
	case int64:
		return fmt.Sprintf("the integer %d", x)
	case float64:
		return fmt.Sprintf("the number %g", x)
	case bool:
		return fmt.Sprintf("%v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date-time"
	}
	return fmt.Sprintf("%T", v)
}

// Checks of single values.
var (
	nonNegative = func(v any) error {
		if v.(float64) < 0 {
			return errors.New("must be 0 or more")
		}
		return nil
	}
	nonNegativeInt = func(v any) error {
		if v.(int) < 0 {
			return errors.New("must be 0 or more")
		}
		return nil
	}
	checkRate = func(v any) error { return serial.CheckRate(v.(float64)) }
	// checkListen is the health endpoint's own check of its address.
	checkListen = health.CheckAddr
)

func checkLevel(v any) error {
	switch v.(string) {
	case "", "debug", "info", "warn", "error":
		return nil
	}
	return fmt.Errorf("%q: want debug, info, warn or error", v)
}

func checkURL(v any) error {
	s := v.(string)
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want an http or https URL such as http://127.0.0.1:8086", s)
	}
	return nil
}

// explicitKeys are the keys of every section but detect and rule, in the
// order of the sample.
var explicitKeys = []*key{
	{section: "ingest", name: "subject", kind: kString, flags: []string{"subject"},
		doc: "The person the data is about (use a pseudonym, or see [pseudonymise]).",
		ptr: func(s *Settings) any { return &s.Ingest.Subject }},
	{section: "ingest", name: "site", kind: kString, flags: []string{"site"},
		doc: "Where the sensor sits, e.g. calf_left (a [[device]]'s site wins for run).",
		ptr: func(s *Settings) any { return &s.Ingest.Site }},
	{section: "ingest", name: "session", kind: kString, flags: []string{"session"},
		doc: "Session identifier; empty: derived from the file or port name and the first sample.",
		ptr: func(s *Settings) any { return &s.Ingest.Session }},
	{section: "ingest", name: "events", kind: kString, flags: []string{"events"},
		doc: "Events file (JSON lines, rewritten at each start); \"-\" is standard output; empty: none.",
		ptr: func(s *Settings) any { return &s.Ingest.Events }},
	{section: "ingest", name: "epochs", kind: kBool, flags: []string{"epochs"},
		doc: "Also write the per-epoch activity features to the events file.",
		ptr: func(s *Settings) any { return &s.Ingest.Epochs }},
	{section: "ingest", name: "log_level", kind: kString, flags: []string{"v"}, check: checkLevel,
		doc: "Least level logged: debug, info, warn or error; empty: info for run, warn for replay (-v: debug).",
		ptr: func(s *Settings) any { return &s.LogLevel }},

	{section: "influx", name: "url", kind: kString, flags: []string{"influx-url"}, check: checkURL,
		doc: "InfluxDB URL, e.g. http://127.0.0.1:8086; empty: nothing is written to InfluxDB.",
		ptr: func(s *Settings) any { return &s.Ingest.Influx.URL }},
	{section: "influx", name: "org", kind: kString, flags: []string{"influx-org"},
		doc: "Organisation (InfluxDB 2.x; 1.8 ignores it).",
		ptr: func(s *Settings) any { return &s.Ingest.Influx.Org }},
	{section: "influx", name: "bucket", kind: kString, flags: []string{"influx-bucket"},
		doc: "Bucket; database/retention-policy on InfluxDB 1.8.",
		ptr: func(s *Settings) any { return &s.Ingest.Influx.Bucket }},
	{section: "influx", name: "activity_bucket", kind: kString, flags: []string{"influx-activity-bucket"},
		doc: "Bucket for the per-epoch activity points; empty: bucket. After `twitchd influx setup`:\n\"twitchd/activity_raw\", kept for a limited time and downsampled hourly into twitchd/activity_1h.",
		ptr: func(s *Settings) any { return &s.Ingest.Influx.ActivityBucket }},
	{section: "influx", name: "token_file", kind: kString, flags: []string{"influx-token-file"},
		doc: "File holding the token (user:password on 1.8), mode 0600; empty: the environment's INFLUX_TOKEN.\nThe token itself never goes in this file.",
		ptr: func(s *Settings) any { return &s.Ingest.Influx.TokenFile }},
	{section: "influx", name: "ca", kind: kString, flags: []string{"influx-ca"},
		doc: "PEM file of the CA that signed the server's certificate (https); empty: the system's CAs.",
		ptr: func(s *Settings) any { return &s.Ingest.Influx.CAFile }},
	{section: "influx", name: "strict_perms", kind: kBool, flags: []string{"strict-perms"},
		doc: "Refuse a token or key file that its group or others may read (otherwise: a warning).",
		ptr: func(s *Settings) any { return &s.Ingest.Influx.StrictPerms }},
	{section: "influx", name: "retry_time", kind: kDuration, flags: []string{"influx-retry-time"},
		doc: "Without a spool: how long a batch is retried before its points are given up.\nWith a spool a failed write sends points to the spool at once.",
		ptr: func(s *Settings) any { return &s.Ingest.RetryTime }},

	{section: "pseudonymise", name: "key_file", kind: kString, flags: []string{"pseudonymise-key-file"},
		doc: "File holding a secret key (at least 16 bytes, mode 0600): the subject is replaced everywhere\nby p-<16 hex digits of HMAC-SHA256(key, subject)>. Empty: subjects stay as given.",
		ptr: func(s *Settings) any { return &s.Ingest.Influx.PseudonymKeyFile }},

	{section: "spool", name: "dir", kind: kString, flags: []string{"spool-dir"},
		doc: "Where points InfluxDB cannot take yet are kept (a subdirectory per URL and bucket);\nempty: no spool. Default: $STATE_DIRECTORY/spool (systemd), else $XDG_STATE_HOME/twitchd/spool,\nelse ~/.local/state/twitchd/spool.",
		ptr: func(s *Settings) any { return &s.Ingest.Spool.Root }},
	{section: "spool", name: "max", kind: kSize, flags: []string{"spool-max"},
		doc: "Most bytes the spool may hold; when full, new points are refused and counted.",
		ptr: func(s *Settings) any { return &s.Ingest.Spool.MaxBytes }},
	{section: "spool", name: "interval", kind: kDuration, flags: []string{"spool-interval"},
		doc: "How often to try sending the spool while it holds points.",
		ptr: func(s *Settings) any { return &s.Ingest.Spool.Interval }},
	{section: "spool", name: "server_wait", kind: kDuration,
		doc: "How long the end of a run waits for a server that does not answer before it leaves the spool\nto the next start.",
		ptr: func(s *Settings) any { return &s.Ingest.Spool.ServerWait }},

	{section: "health", name: "listen", kind: kString, flags: []string{"listen"},
		doc: "Serve /healthz and /metrics at this address, e.g. 127.0.0.1:9464; empty: not served.",
		ptr: func(s *Settings) any { return &s.Ingest.Health.Addr }},
	{section: "health", name: "listen_any", kind: kBool, flags: []string{"listen-any"},
		doc: "Allow an address that is not on the loopback interface (the endpoints have no authentication).",
		ptr: func(s *Settings) any { return &s.Ingest.Health.AllowAny }},

	{section: "run", name: "device", kind: kString, flags: []string{"device"},
		doc: "The [[device]] run collects from, by name; empty: the only one. The service unit passes\nits instance name (twitchd@NAME) as --device.",
		ptr: func(s *Settings) any { return &s.Device }},
	{section: "run", name: "duration", kind: kDuration, flags: []string{"duration"},
		doc: "Stop after this long; 0: until SIGINT or SIGTERM.",
		ptr: func(s *Settings) any { return &s.Ingest.StopAfter }},
	{section: "run", name: "strict", kind: kBool, flags: []string{"strict"},
		doc: "Stop at the first garbled frame or line instead of skipping and counting it.",
		ptr: func(s *Settings) any { return &s.Ingest.Strict }},
	{section: "run", name: "clock_step_limit", kind: kDuration,
		doc: "The largest step of the host clock (NTP, a person) that is slewed out of the sample times;\na larger one ends the segment and the next follows the stepped clock.",
		ptr: func(s *Settings) any { return &liveClock(s).StepLimit }},

	{section: "replay", name: "format", kind: kString, flags: []string{"format"}, check: checkFormat,
		doc: "Input format; empty: detected from the content.",
		ptr: func(s *Settings) any { return &s.File.Format }},
	{section: "replay", name: "rate", kind: kFloat, flags: []string{"rate"}, check: checkRate,
		doc: "Sample rate in Hz of files without a time column; 0: from a comment in the file.",
		ptr: func(s *Settings) any { return &s.File.Options.Rate }},
	{section: "replay", name: "columns", kind: kStrings, flags: []string{"columns"}, check: checkColumns,
		doc: "Names of the columns of a text file without a header row (its first line is then data).",
		ptr: func(s *Settings) any { return &s.File.Options.Columns }},
	{section: "replay", name: "start", kind: kTime, flags: []string{"start"},
		doc: "Recording start (RFC 3339) for files with relative or no times; \"\": the file's modification time.",
		ptr: func(s *Settings) any { return &s.File.Options.Start }},
	{section: "replay", name: "strict", kind: kBool, flags: []string{"strict"},
		doc: "Stop at the first malformed line instead of skipping and counting it.",
		ptr: func(s *Settings) any { return &s.File.Options.Strict }},
	{section: "replay", name: "speed", kind: kFloat, flags: []string{"speed"}, check: nonNegative,
		doc: "Pace: 0 as fast as possible, 1 real time, N times real time.",
		ptr: func(s *Settings) any { return &s.Ingest.Speed }},
	{section: "replay", name: "jobs", kind: kInt, flags: []string{"j"}, check: nonNegativeInt,
		doc: "Files replayed at once; 0: one per CPU (one when speed is set). The results are those\nof one at a time: the detectors run in parallel, the rule and the writes in input order.",
		ptr: func(s *Settings) any { return &s.Ingest.Jobs }},
	{section: "replay", name: "include", kind: kStrings, flags: []string{"include"},
		doc: "In directories given to replay, only files whose names match one of these patterns\n(e.g. [\"*.edf\", \"*.csv\"]); empty: every file not beginning with a dot.",
		ptr: func(s *Settings) any { return &s.Include }},
	{section: "replay", name: "subject_from_dir", kind: kBool, flags: []string{"subject-from-dir"},
		doc: "Each file's subject is the name of its directory (an archive with a directory per person).",
		ptr: func(s *Settings) any { return &s.SubjectFromDir }},
	{section: "replay", name: "shard_root", kind: kString, flags: []string{"shard-root"},
		doc: "With --shard I/N: the directory paths are taken relative to; \"\": the working directory.",
		ptr: func(s *Settings) any { return &s.Shard.Root }},
	{section: "replay", name: "shard_by_dir", kind: kBool, flags: []string{"shard-by-dir"},
		doc: "With --shard I/N: keep the files of one directory (one person's) in one shard.",
		ptr: func(s *Settings) any { return &s.Shard.ByDir }},
	{section: "replay", name: "map", kind: kMappings, flags: []string{"map"},
		doc: "Column mappings, COLUMN = \"KIND:UNIT\" (kinds acc, emg, other; units g, mg, m/s2, V, mV, uV;\nraw counts: \"KIND:UNIT,scale=S,offset=O\" or emg:pluxN, emg:bitalinoN); a COLUMN ending\nin * maps every column it begins.",
		ptr: func(s *Settings) any { return &s.File.Options.Map }},
}

// liveClock returns s's live clock settings, making them if needed.
func liveClock(s *Settings) *serial.Clock {
	if s.Ingest.LiveClock == nil {
		s.Ingest.LiveClock = &serial.Clock{}
	}
	return s.Ingest.LiveClock
}

func checkFormat(v any) error {
	f := v.(string)
	if f == "" {
		return nil
	}
	for _, name := range decode.Formats() {
		if name == f {
			return nil
		}
	}
	return fmt.Errorf("unknown format %q (want %s)", f, strings.Join(decode.Formats(), ", "))
}

func checkColumns(v any) error {
	for i, c := range v.([]string) {
		if strings.TrimSpace(c) == "" {
			return fmt.Errorf("column %d: empty name", i+1)
		}
	}
	return nil
}

// sectionOrder is the order of the sections in the sample.
var sectionOrder = []string{"ingest", "influx", "pseudonymise", "spool", "health", "run", "replay", "detect", "rule"}

var (
	keysOnce sync.Once
	keys     []*key
	sections map[string]map[string]*key
)

// allKeys returns every key, in the order of the sample.
func allKeys() []*key {
	keysOnce.Do(func() {
		keys = append(keys, explicitKeys...)
		keys = append(keys, structKeys("detect", "detect.Config", func(s *Settings) any { return &s.Ingest.Detect })...)
		keys = append(keys, structKeys("rule", "rule.Config", func(s *Settings) any { return &s.Ingest.Rule })...)
		sections = map[string]map[string]*key{}
		for _, k := range keys {
			if sections[k.section] == nil {
				sections[k.section] = map[string]*key{}
			}
			sections[k.section][k.name] = k
		}
	})
	return keys
}

func init() { allKeys() }

// sectionNames lists the sections, sorted.
func sectionNames() []string {
	out := append([]string{"device"}, sectionOrder...)
	sort.Strings(out)
	return out
}

// keyNames lists the keys of a section in the order of the sample.
func keyNames(section string) []string {
	var out []string
	for _, k := range allKeys() {
		if k.section == section {
			out = append(out, k.name)
		}
	}
	return out
}

// Keys lists every key of the file ("section.name"), in the order of
// the sample ([[device]] tables aside).
func Keys() []string {
	var out []string
	for _, k := range allKeys() {
		out = append(out, k.full())
	}
	return out
}

// FlagKeys maps each command-line flag of run and replay that has a key
// to it; a flag both take ("strict", "rate") maps to the key of each,
// named "command:flag".
func FlagKeys() map[string]string {
	out := map[string]string{}
	for _, k := range allKeys() {
		for _, f := range k.flags {
			switch k.section {
			case "run", "replay":
				out[k.section+":"+f] = k.full()
			default:
				out["run:"+f] = k.full()
				out["replay:"+f] = k.full()
			}
		}
	}
	return out
}

// structKeys makes a key of every field of the struct ptr points to
// whose type a file can hold, named in snake case (TwitchMaxPeakMV:
// twitch_max_peak_mv), with the field's documentation.
func structKeys(section, docs string, ptr func(s *Settings) any) []*key {
	t := reflect.TypeOf(ptr(&Settings{})).Elem()
	doc := map[string]string{}
	for _, f := range fieldDocs[docs] {
		if f.Name == f.Group {
			doc[f.Name] = f.Doc
		}
	}
	var out []*key
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		kd, ok := kindOf(f.Type)
		if !f.IsExported() || !ok {
			continue
		}
		name := f.Name
		out = append(out, &key{section: section, name: snake(name), field: name, kind: kd, doc: doc[name],
			ptr: func(s *Settings) any { return reflect.ValueOf(ptr(s)).Elem().FieldByName(name).Addr().Interface() }})
	}
	return out
}

// kindOf returns the kind of a field type a file can hold.
func kindOf(t reflect.Type) (kind, bool) {
	switch {
	case t == reflect.TypeOf(time.Duration(0)):
		return kDuration, true
	case t == reflect.TypeOf((*time.Location)(nil)):
		return kLocation, true
	case t == reflect.TypeOf([]string(nil)):
		return kStrings, true
	}
	switch t.Kind() {
	case reflect.Float64:
		return kFloat, true
	case reflect.Int, reflect.Int64, reflect.Int32:
		return kInt, true
	case reflect.Bool:
		return kBool, true
	case reflect.String:
		return kString, true
	}
	return 0, false
}

// snake turns a Go name into a TOML key: words split where a lower-case
// letter or digit meets an upper-case one, and before the last capital of
// an acronym that a word follows (EMGOrder: emg_order, ACWRLimit:
// acwr_limit, TwitchMaxPeakMV: twitch_max_peak_mv).
func snake(name string) string {
	var b strings.Builder
	r := []rune(name)
	for i, c := range r {
		upper := c >= 'A' && c <= 'Z'
		if upper && i > 0 {
			prev := r[i-1]
			prevLower := prev >= 'a' && prev <= 'z' || prev >= '0' && prev <= '9'
			nextLower := i+1 < len(r) && r[i+1] >= 'a' && r[i+1] <= 'z'
			prevUpper := prev >= 'A' && prev <= 'Z'
			if prevLower || (prevUpper && nextLower) {
				b.WriteByte('_')
			}
		}
		if upper {
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}
