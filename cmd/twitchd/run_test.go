package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/simulate/device"
	"github.com/twitchd/twitchd/internal/testutil/recording"
	"github.com/twitchd/twitchd/internal/testutil/standin"
	"github.com/twitchd/twitchd/pipeline"
)

func TestRunLive(t *testing.T) {
	t.Setenv("INFLUX_URL", "")
	cases := []struct {
		name     string
		protocol string
		args     func(link, dir string) []string
		cancel   time.Duration // cancel the context (as SIGINT does) after this
		subject  string
	}{
		{"cyton with duration", device.Cyton, func(link, _ string) []string {
			return []string{"--port", link, "--protocol", "openbci-cyton", "--duration", "2s", "--subject", "p1", "--site", "calf_left"}
		}, 0, "p1"},
		{"bitalino interrupted", device.BITalino, func(link, _ string) []string {
			return []string{"--port", link, "--protocol", "bitalino", "--subject", "p1"}
		}, 2 * time.Second, "p1"},
		{"ascii from a config file", device.ASCII, func(link, dir string) []string {
			cfg := filepath.Join(dir, "dev.toml")
			os.WriteFile(cfg, []byte("[[device]]\nname = \"arduino\"\nport = \""+link+"\"\nprotocol = \"ascii\"\nrate = 250\nsubject = \"p2\"\nsite = \"calf_right\"\n"), 0o600)
			return []string{"--config", cfg, "--duration", "2s"}
		}, 0, "p2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			link := standin.Serve(t, dir, recording.Bundled(t, dir), c.protocol)
			evPath := filepath.Join(dir, "events.jsonl")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if c.cancel > 0 {
				rctx, stop := context.WithCancel(ctx)
				defer time.AfterFunc(c.cancel, stop).Stop()
				ctx = rctx
			}
			var stdout, stderr bytes.Buffer
			args := append([]string{"run"}, c.args(link, dir)...)
			args = append(args, "--events", evPath)
			if code := runMain(ctx, args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr.String())
			}
			evs := recording.ReadEvents(t, evPath)
			sum, ok := evs[len(evs)-1].(*pipeline.Summary)
			if !ok {
				t.Fatalf("last event %T, want the summary", evs[len(evs)-1])
			}
			if sum.Format != c.protocol || sum.File != link || !sum.Interrupted || sum.Subject != c.subject {
				t.Fatalf("summary %+v", sum)
			}
			var samples int64
			for _, ch := range sum.Channels {
				samples += ch.Samples
			}
			if samples < 250 || sum.LostSamples != 0 || sum.SkippedLines != 0 {
				t.Fatalf("summary: %d samples, %d lost, %d skipped", samples, sum.LostSamples, sum.SkippedLines)
			}
			if !strings.Contains(stderr.String(), "1 connections, 0 losses") {
				t.Fatalf("no serial line in the report:\n%s", stderr.String())
			}
		})
	}
}

// TestRunAllDevices runs two stand-ins from one configuration file in
// one process with --device all: each device gets its own events file,
// with its own subject and site, and its own summary on stderr.
func TestRunAllDevices(t *testing.T) {
	t.Setenv("INFLUX_URL", "")
	dir := t.TempDir()
	rec := recording.Bundled(t, dir)
	var conf strings.Builder
	for _, d := range []struct{ name, protocol, subject string }{{"left", device.BITalino, "p1"}, {"right", device.Cyton, "p2"}} {
		sub := filepath.Join(dir, d.name)
		os.Mkdir(sub, 0o755)
		link := standin.Serve(t, sub, rec, d.protocol)
		conf.WriteString("[[device]]\nname = \"" + d.name + "\"\nport = \"" + link + "\"\nprotocol = \"" + d.protocol +
			"\"\nsubject = \"" + d.subject + "\"\nsite = \"calf_" + d.name + "\"\n\n")
	}
	cfg := filepath.Join(dir, "fleet.toml")
	if err := os.WriteFile(cfg, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	args := []string{"run", "--config", cfg, "--device", "all", "--duration", "2s",
		"--events", filepath.Join(dir, "ev.jsonl"), "--spool-dir", filepath.Join(dir, "spool")}
	if code := runMain(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	for _, d := range []struct{ name, protocol, subject string }{{"left", device.BITalino, "p1"}, {"right", device.Cyton, "p2"}} {
		evs := recording.ReadEvents(t, filepath.Join(dir, "ev."+d.name+".jsonl"))
		sum, ok := evs[len(evs)-1].(*pipeline.Summary)
		if !ok || sum.Format != d.protocol || sum.Subject != d.subject || sum.Site != "calf_"+d.name || sum.Channels[0].Samples < 250 {
			t.Errorf("%s: last event %+v, want its summary", d.name, evs[len(evs)-1])
		}
		if !strings.Contains(stderr.String(), "device "+d.name+":\n") {
			t.Errorf("no block for %s on stderr:\n%s", d.name, stderr.String())
		}
	}
}

func TestRunUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no port", []string{"run", "--protocol", "bitalino"}, "no port"},
		{"no protocol", []string{"run", "--port", "/dev/ttyUSB9"}, "no protocol"},
		{"unknown protocol", []string{"run", "--port", "/dev/ttyUSB9", "--protocol", "ganglion"}, `unknown protocol "ganglion"`},
		{"all devices with a port", []string{"run", "--device", "all", "--port", "/dev/ttyUSB9"}, "--port does not go with --device all"},
		{"all devices without a file", []string{"run", "--device", "all"}, "has no [[device]]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runMain(context.Background(), c.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), c.want)
			}
		})
	}
}

// TestListPorts checks how ports are printed; serial.List's own test
// checks which are found and their order.
func TestListPorts(t *testing.T) {
	dev := t.TempDir()
	if err := os.WriteFile(filepath.Join(dev, "ttyUSB0"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	byID := filepath.Join(dev, "serial", "by-id")
	os.MkdirAll(byID, 0o755)
	os.Symlink("../../ttyUSB0", filepath.Join(byID, "usb-FTDI-if00"))
	var b bytes.Buffer
	n := listPorts(&b, dev, false)
	if want := dev + "/ttyUSB0\n" + byID + "/usb-FTDI-if00 -> " + dev + "/ttyUSB0\n"; b.String() != want || n != 2 {
		t.Fatalf("listed (%d):\n%s\nwant:\n%s", n, b.String(), want)
	}
}
