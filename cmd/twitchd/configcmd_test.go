package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/config"
	"github.com/twitchd/twitchd/internal/testutil/recording"
	"github.com/twitchd/twitchd/pipeline"
)

// deviceFlagKeys are run's flags that set the chosen [[device]]'s keys,
// not keys of their own.
var deviceFlagKeys = map[string]bool{"port": true, "protocol": true, "baud": true, "rate": true, "counter": true}

// invocationFlags are replay's flags that say which files this one
// invocation takes, like its arguments (a job array's task index, a list
// of paths), not settings a configuration file keeps.
var invocationFlags = map[string]bool{"shard": true, "files-from": true}

// TestEveryFlagHasAKey: every flag of run and replay can come from the
// configuration file (a key of its own, or the [[device]]'s), and every
// key that names a flag names one the command has.
func TestEveryFlagHasAKey(t *testing.T) {
	keys := config.FlagKeys()
	var d deviceFlags
	for cmd, bind := range map[string]func(*flag.FlagSet, *config.Settings){"run": bindRun(&d), "replay": bindReplay} {
		fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
		st := config.Defaults()
		bind(fs, &st)
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name == "config" || (cmd == "run" && deviceFlagKeys[f.Name]) || (cmd == "replay" && invocationFlags[f.Name]) {
				return
			}
			if _, ok := keys[cmd+":"+f.Name]; !ok {
				t.Errorf("%s --%s has no key in the configuration file", cmd, f.Name)
			}
		})
		for k, key := range keys {
			c, name, _ := strings.Cut(k, ":")
			if c == cmd && fs.Lookup(name) == nil {
				t.Errorf("%s names the flag --%s, which %s does not have", key, name, cmd)
			}
		}
	}
}

// TestConfigPrecedence: flags override the environment, which overrides
// the file, which overrides the defaults.
func TestConfigPrecedence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twitchd.toml")
	os.WriteFile(path, []byte("[influx]\nurl = \"http://file:8086\"\nbucket = \"file/autogen\"\norg = \"file\"\n[ingest]\nsubject = \"from-file\"\nsite = \"calf\"\n"), 0o600)
	t.Setenv("INFLUX_URL", "http://env:8086")
	t.Setenv("INFLUX_BUCKET", "")
	t.Setenv("INFLUX_ORG", "")
	_, st, err := configure("replay", "", []string{"--config", path, "--subject", "from-flag", "--influx-org", "flag", "x.csv"}, io.Discard, bindReplay)
	if err != nil {
		t.Fatal(err)
	}
	in := st.Ingest
	if in.Influx.URL != "http://env:8086" || in.Influx.Bucket != "file/autogen" || in.Influx.Org != "flag" ||
		in.Subject != "from-flag" || in.Site != "calf" || in.Spool.MaxBytes != config.Defaults().Ingest.Spool.MaxBytes {
		t.Fatalf("settings %+v", in)
	}
}

// TestConfigCommand: config sample prints a file config check accepts;
// a bad file exits 78 with each problem's file, line and key.
func TestConfigCommand(t *testing.T) {
	dir := t.TempDir()
	code, sample, _ := run(t, "config", "sample")
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte(sample), 0o600)
	if code != 0 || !strings.Contains(sample, "[rule]") {
		t.Fatalf("config sample: exit %d", code)
	}
	code, out, errs := run(t, "config", "check", good)
	if code != 0 || !strings.Contains(out, good+": ok") {
		t.Fatalf("config check of the sample: exit %d\n%s%s", code, out, errs)
	}
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[influx]\nurl = \"http://x:8086\"\ntoken = \"secret\"\n\n[spool]\nmax = \"lots\"\n"), 0o600)
	code, _, errs = run(t, "config", "check", bad)
	for _, want := range []string{bad + ":3: influx.token: the InfluxDB token is not read", bad + `:6: spool.max: want a positive size`} {
		if !strings.Contains(errs, want) {
			t.Errorf("config check: no %q in\n%s", want, errs)
		}
	}
	if code != exitConfig {
		t.Errorf("config check of a bad file: exit %d, want %d", code, exitConfig)
	}
	if code, _, errs := run(t, "replay", "--config", bad, "x.csv"); code != exitConfig || !strings.Contains(errs, bad+":3:") {
		t.Errorf("replay with a bad file: exit %d\n%s", code, errs)
	}
}

// TestReplayWithConfig replays a fixture with its settings from a file
// and one flag: the file's events path, epochs and subject are used,
// the flag's site wins over the file's.
func TestReplayWithConfig(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "ev.jsonl")
	path := filepath.Join(dir, "twitchd.toml")
	os.WriteFile(path, []byte("[ingest]\nsubject = \"cfg\"\nsite = \"file-site\"\nevents = \""+ev+"\"\nepochs = true\n[spool]\ndir = \"\"\n"), 0o600)
	code, _, errs := run(t, "replay", "--config", path, "--site", "flag-site", "../../testdata/forearm.csv")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	epochs := 0
	for _, e := range recording.ReadEvents(t, ev) {
		if ep, ok := e.(*pipeline.Epoch); ok {
			epochs++
			if ep.Subject != "cfg" || ep.Site != "flag-site" {
				t.Fatalf("epoch tagged %+v", ep.Tags)
			}
		}
	}
	if epochs == 0 {
		t.Fatal("no epochs: epochs = true in the file was not used")
	}
}
