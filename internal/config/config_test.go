package config

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/config/docgen"
	"github.com/twitchd/twitchd/internal/detect"
	"github.com/twitchd/twitchd/internal/rule"
)

// TestSampleParsesToDefaults: the sample is a valid file, and what it
// sets is exactly the defaults.
func TestSampleParsesToDefaults(t *testing.T) {
	f, err := Parse("sample", Sample())
	if err != nil {
		t.Fatalf("the sample does not parse:\n%v", err)
	}
	def := Defaults()
	for _, k := range allKeys() {
		got, ok := f.vals[k.full()]
		if !ok {
			t.Errorf("the sample lacks %s", k.full())
			continue
		}
		want := k.get(&def)
		if loc, ok := want.(*time.Location); ok {
			want, got = loc.String(), got.(*time.Location).String()
		}
		if !reflect.DeepEqual(got, want) && !(isEmpty(got) && isEmpty(want)) {
			t.Errorf("%s = %#v in the sample, default %#v", k.full(), got, want)
		}
	}
	if len(f.devices) != 1 || f.devices[0].Name != "left-calf" {
		t.Errorf("the sample's device: %+v", f.devices)
	}
}

func isEmpty(v any) bool {
	rv := reflect.ValueOf(v)
	return (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.Len() == 0
}

// TestSampleCoversEverySetting: every key is in the sample, and every
// field of detect.Config and rule.Config is a key, except the ones a
// file cannot hold (listed here, so that a new field of a new type fails
// this test until it is either made a key or listed).
func TestSampleCoversEverySetting(t *testing.T) {
	f, err := Parse("sample", Sample())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		if !f.Has(k) {
			t.Errorf("%s is not in the sample", k)
		}
	}
	notKeys := map[string]bool{"detect.Log": true}
	for _, c := range []struct {
		section string
		typ     reflect.Type
	}{{"detect", reflect.TypeOf(detect.Config{})}, {"rule", reflect.TypeOf(rule.Config{})}} {
		for i := 0; i < c.typ.NumField(); i++ {
			fl := c.typ.Field(i)
			if !fl.IsExported() || notKeys[c.section+"."+fl.Name] {
				continue
			}
			if _, ok := sections[c.section][snake(fl.Name)]; !ok {
				t.Errorf("%s.Config.%s (%s) has no key", c.section, fl.Name, fl.Type)
			}
		}
	}
}

// TestFieldDocsUpToDate: the comments the sample prints are those of the
// code. When a field of detect.Config or rule.Config is added or its
// comment changes, run go generate ./internal/config.
func TestFieldDocsUpToDate(t *testing.T) {
	for typ, dir := range map[string]string{"detect.Config": "../detect", "rule.Config": "../rule"} {
		fields, err := docgen.Fields(dir, "Config")
		if err != nil {
			t.Fatal(err)
		}
		for i := range fields {
			if fields[i].Name != fields[i].Group {
				fields[i].Doc = ""
			}
		}
		if !slices.Equal(fields, fieldDocs[typ]) {
			t.Errorf("the doc comments of %s changed: run go generate ./internal/config", typ)
		}
	}
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"Epoch": "epoch", "LightMG": "light_mg", "EMGOrder": "emg_order", "TwitchMaxPeakMV": "twitch_max_peak_mv",
		"ACWRLimit": "acwr_limit", "GuideP": "guide_p", "LFRatio": "lf_ratio", "MainsQ": "mains_q",
		"EMGModerateMV": "emg_moderate_mv", "HistoryTimeout": "history_timeout", "AccOnSigma": "acc_on_sigma",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestDurations(t *testing.T) {
	for _, c := range []struct {
		text string
		d    time.Duration
	}{{"0s", 0}, {"150ms", 150 * time.Millisecond}, {"5m", 5 * time.Minute}, {"1h30m", 90 * time.Minute},
		{"6h", 6 * time.Hour}, {"14d", 14 * 24 * time.Hour}, {"1d12h", 36 * time.Hour}, {"2.5s", 2500 * time.Millisecond}} {
		d, err := parseDuration(c.text)
		if err != nil || d != c.d {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", c.text, d, err, c.d)
		}
		if s := formatDuration(c.d); s != c.text {
			t.Errorf("formatDuration(%v) = %q, want %q", c.d, s, c.text)
		}
	}
	for _, bad := range []string{"", "soon", "5", "d", "xd", "3d4"} {
		if _, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q) succeeded", bad)
		}
	}
}

// TestApplySetsOnlyWhatTheFileHas: a file with a few keys changes those
// and leaves every other setting as it was.
func TestApplySetsOnlyWhatTheFileHas(t *testing.T) {
	f, err := Parse("t.toml", `
[influx]
url = "https://influx.example:8086"
[spool]
max = "1GiB"
[detect]
twitch_min = 0.005
[rule]
episode_lookback = "21d"
location = "Europe/Berlin"
raising_symptoms = ["weakness"]
[replay]
map = { "emg_*" = "emg:uV", "ACC_X" = "acc:mg" }
start = 2026-11-25T10:00:00Z
`)
	if err != nil {
		t.Fatal(err)
	}
	s := Defaults()
	s.Ingest.Subject = "kept"
	f.Apply(&s)
	if s.Ingest.Influx.URL != "https://influx.example:8086" || s.Ingest.Spool.MaxBytes != 1<<30 || s.Ingest.Detect.TwitchMin != 0.005 ||
		s.Ingest.Rule.EpisodeLookback != 21*24*time.Hour || s.Ingest.Rule.Location.String() != "Europe/Berlin" ||
		!slices.Equal(s.Ingest.Rule.RaisingSymptoms, []string{"weakness"}) || s.Ingest.Subject != "kept" ||
		s.Ingest.Detect.TwitchMax != detect.Default().TwitchMax || s.File.Options.Map["acc_x"].String() != "acc:mg" ||
		!s.File.Options.Start.Equal(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("applied: %+v", s)
	}
}

// TestErrors: each bad file is refused with every problem in it, each
// naming the file, the line and the key.
func TestErrors(t *testing.T) {
	cases := []struct {
		name string
		text string
		want []string // one per error, in line order
	}{
		{"typo in a key", "[spool]\nmaxx = \"1GiB\"\n", []string{"f.toml:2: spool.maxx: unknown key (spool has dir, max, interval, server_wait)"}},
		{"unknown section", "[spol]\nmax = 1\n", []string{"f.toml:1: spol: unknown section or key"}},
		{"wrong type", "[spool]\nmax = true\n", []string{`f.toml:2: spool.max: want a size such as "256MiB" or "1GiB", not true`}},
		{"bad duration", "[spool]\n\ninterval = \"often\"\n", []string{`f.toml:3: spool.interval: "often": want a duration`}},
		{"negative speed", "[replay]\nspeed = -2\n", []string{"f.toml:2: replay.speed: must be 0 or more"}},
		{"bad URL", "[influx]\nurl = \"influx:8086\"\n", []string{`f.toml:2: influx.url: "influx:8086": want an http or https URL`}},
		{"token in the file", "[influx]\nurl = \"http://x:8086\"\ntoken = \"s3cret\"\n", []string{"f.toml:3: influx.token: the InfluxDB token is not read from the configuration file: put it in a file of mode 0600 named by influx.token_file"}},
		{"token at the top", "token = \"s3cret\"\n", []string{"f.toml:1: token: the InfluxDB token is not read"}},
		{"detector threshold out of range", "[detect]\nepoch = 5\nfast_rms = -1\n", []string{"f.toml:3: detect.fast_rms: detect: fast-rms must be positive"}},
		{"rule threshold out of range", "[rule]\nmin_rest_after = \"1h\"\n", []string{"f.toml:2: rule.min_rest_after: rule: invalid config: MinRestAfter"}},
		{"bad time zone", "[rule]\nlocation = \"Mars/Olympus\"\n", []string{`f.toml:2: rule.location: time zone "Mars/Olympus"`}},
		{"bad mapping", "[replay.map]\nemg = \"emg:furlong\"\n", []string{"f.toml:1: replay.map: emg:"}},
		{"integer wanted", "[detect]\nemg_order = 2.5\n", []string{"f.toml:2: detect.emg_order: want an integer, not the number 2.5"}},
		{"listen not on loopback", "[health]\nlisten = \"0.0.0.0:9464\"\n", []string{"f.toml:2: health.listen: health:"}},
		{"several at once", "[spool]\nmaxx = 1\n[run]\nduration = \"-1s\"\n[ingest]\nlog_level = \"loud\"\n", []string{
			"f.toml:2: spool.maxx: unknown key", `f.toml:4: run.duration: "-1s" is negative`, `f.toml:6: ingest.log_level: "loud": want debug, info, warn or error`}},
		{"device with an unknown protocol", "[[device]]\nname = \"a\"\nprotocol = \"morse\"\n", []string{"f.toml:1: device 1: unknown protocol \"morse\""}},
		{"device key of no protocol", "[[device]]\nname = \"a\"\nport = \"/dev/x\"\n\n[[device]]\nname = \"b\"\nprotocol = \"bitalino\"\nrat = 100\n", []string{
			"f.toml:8: device.rat: unknown key"}},
		{"device setting out of range", "[[device]]\nprotocol = \"bitalino\"\n  [[device.channel]]\n  index = 5000\n", []string{"f.toml:1: device 1: channel 1: index 5000 out of 0..1023"}},
		{"two devices of one name", "[[device]]\nname = \"a\"\n[[device]]\nname = \"a\"\n", []string{`f.toml:3: device 2: named "a" like device 1`}},
		{"TOML syntax", "[spool]\nmax = \"1GiB\n", []string{"f.toml:2: "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("f.toml", c.text)
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("err %v (%T), want Errors", err, err)
			}
			if len(es) != len(c.want) {
				t.Fatalf("%d errors, want %d:\n%v", len(es), len(c.want), err)
			}
			for i, w := range c.want {
				if !strings.HasPrefix(es[i].Error(), w) {
					t.Errorf("error %d:\n  %s\nwant it to begin\n  %s", i+1, es[i], w)
				}
			}
		})
	}
}

// TestDeviceFileStillReads: a device file of the earlier format (only
// [[device]] tables) is a configuration file.
func TestDeviceFileStillReads(t *testing.T) {
	f, err := Load("../source/serial/testdata/devices.toml")
	if err != nil {
		t.Fatal(err)
	}
	s := Defaults()
	f.Apply(&s)
	d, ok, err := s.FindDevice("bitalino")
	if err != nil || !ok || d.Port != "/dev/rfcomm0" {
		t.Fatalf("device bitalino: %+v %v %v", d, ok, err)
	}
	if _, _, err := s.FindDevice(""); err == nil {
		t.Fatal("three devices and no name: want an error")
	}
}
