package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/eval"
	"github.com/twitchd/twitchd/internal/simulate"
)

// simRun runs the CLI in process and returns the exit status and output.
func simRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestSimulateCommand(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "calf.csv")
	code, _, stderr := simRun(t, "simulate", "-scenario", "bundled-calf", "-seed", "1", "-minutes", "0.5", "-out", csvPath, "-emg-rate", "500", "-acc-rate", "25")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if !strings.HasPrefix(lines[0], "# twitchd simulate scenario=bundled-calf seed=1 emg_rate_hz=500 acc_rate_hz=25") || lines[1] != simulate.CSVHeader {
		t.Errorf("head %q / %q", lines[0], lines[1])
	}
	if rows := len(lines) - 2; rows != 15000 {
		t.Errorf("%d rows, want 30 s x 500 Hz = 15000", rows)
	}
	l, err := eval.LoadLabels(filepath.Join(dir, "calf.labels.json")) // default labels path
	if err != nil {
		t.Fatal(err)
	}
	if l.Scenario != "bundled-calf" || l.Seed != 1 || l.Settings.EMGRate != 500 || l.Settings.AccRate != 25 {
		t.Errorf("labels %s seed %d at %g/%g Hz", l.Scenario, l.Seed, l.Settings.EMGRate, l.Settings.AccRate)
	}

	// the same seed again: the same bytes
	again := filepath.Join(dir, "again.csv")
	if code, _, stderr := simRun(t, "simulate", "-scenario", "bundled-calf", "-seed", "1", "-minutes", "0.5", "-out", again, "-labels", filepath.Join(dir, "x.json"), "-emg-rate", "500", "-acc-rate", "25"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(again); !bytes.Equal(b, data) {
		t.Error("same seed, different file")
	}

	code, stdout, _ := simRun(t, "simulate", "-list")
	if code != 0 || !strings.Contains(stdout, "bundled-forearm") || !strings.Contains(stdout, "quiet-rest") {
		t.Errorf("-list: exit %d\n%s", code, stdout)
	}
}

func TestSimulateCommandErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.csv")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no out", []string{"simulate", "-scenario", "bundled-calf"}, 2, "-out (or -device) is required"},
		{"out and device", []string{"simulate", "-out", out, "-device", "ascii"}, 2, "either -out or -device"},
		{"unknown scenario", []string{"simulate", "-scenario", "marathon", "-out", out}, 1, "unknown scenario \"marathon\""},
		{"emg rate", []string{"simulate", "-out", out, "-emg-rate", "8000"}, 1, "EMG rate 8000 Hz is outside 250..4000"},
		{"acc rate", []string{"simulate", "-out", out, "-acc-rate", "10"}, 1, "accelerometer rate 10 Hz is outside 25..200"},
		{"mains", []string{"simulate", "-out", out, "-mains", "55"}, 1, "mains frequency 55 Hz"},
		{"bad flag", []string{"simulate", "-bogus"}, 2, "flag provided but not defined"},
		{"stdout needs labels", []string{"simulate", "-out", "-"}, 2, "-labels is required with -out -"},
		{"unwritable", []string{"simulate", "-out", filepath.Join(dir, "no", "such", "dir.csv")}, 1, "no such file or directory"},
		{"unknown family", []string{"simulate", "-family", "marathon-held", "-out", out}, 1, "unknown family \"marathon-held\" (known: [run-tune"},
		{"both one-sensor flags", []string{"simulate", "-out", out, "-emg-only", "-acc-only"}, 2, "give -emg-only or -acc-only, not both"},
		{"one-sensor EDF", []string{"simulate", "-out", filepath.Join(dir, "x.edf"), "-emg-only"}, 2, "-emg-only and -acc-only write CSV"},
		{"lofo without families", []string{"eval", "-suite", "short", "-lofo"}, 2, "-family and -lofo need -suite families"},
		{"unknown family in eval", []string{"eval", "-suite", "families-short", "-family", "run-tune,nope"}, 1, "unknown family \"nope\""},
		{"bad modality", []string{"eval", "-labels", "x.json", "-events", "e.jsonl", "-modality", "eeg"}, 2, "-modality \"eeg\": want both, emg or acc"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := simRun(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, c.code, c.want)
			}
		})
	}
}

// TestSimulateFamily draws a family scenario through the CLI, once whole
// and once as the one-sensor files the families suite replays.
func TestSimulateFamily(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"": simulate.CSVHeader, "-emg-only": simulate.CSVHeaderEMG, "-acc-only": simulate.CSVHeaderAcc}
	for flag, header := range files {
		out := filepath.Join(dir, "f"+flag+".csv")
		args := []string{"simulate", "-family", "rest-tune", "-seed", "4", "-short", "-out", out}
		if flag != "" {
			args = append(args, flag)
		}
		code, _, stderr := simRun(t, args...)
		if code != 0 || !strings.Contains(stderr, "expected status at_rest (EMG only at_rest, acc only") {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(f)
		first, _ := br.ReadString('\n')
		second, _ := br.ReadString('\n')
		f.Close()
		if !strings.Contains(first, "scenario=rest-tune-4s seed=4") || strings.TrimSpace(second) != header {
			t.Errorf("%s: head %q %q", flag, first, second)
		}
		l, err := eval.LoadLabels(strings.TrimSuffix(out, ".csv") + ".labels.json")
		if err != nil || l.Settings.Family != "rest-tune" || l.Expected == nil || l.Expected.Both.Status != simulate.StatusAtRest {
			t.Errorf("%s: labels %v %+v", flag, err, l)
		}
	}
	code, stdout, _ := simRun(t, "simulate", "-list")
	if code != 0 || !strings.Contains(stdout, "walk-held    held-out") || !strings.Contains(stdout, "at-rest-goes-on (at_rest)") {
		t.Errorf("-list lacks the families:\n%s", stdout)
	}
}

func TestEvalCommand(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "fa.csv")
	if code, _, stderr := simRun(t, "simulate", "-scenario", "bundled-forearm", "-seed", "2", "-minutes", "1", "-out", csvPath); code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, stderr)
	}
	l, err := eval.LoadLabels(filepath.Join(dir, "fa.labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Events that are exactly the truth score perfectly.
	var evs bytes.Buffer
	for _, tw := range l.Twitches {
		evs.WriteString(`{"type":"twitch","start":"` + tw.Start.String() + `","end":"` + tw.End.String() + `","sensor":"emg"}` + "\n")
	}
	for _, c := range l.Cramps {
		evs.WriteString(`{"type":"cramp","start":"` + c.Start.String() + `","end":"` + c.End.String() + `"}` + "\n")
	}
	for _, b := range l.Bouts {
		evs.WriteString(`{"type":"bout","start":"` + b.Start.String() + `","end":"` + b.End.String() + `","intensity":"` + b.Intensity + `"}` + "\n")
	}
	evPath := filepath.Join(dir, "fa.events.jsonl")
	if err := os.WriteFile(evPath, evs.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := simRun(t, "eval", "-labels", filepath.Join(dir, "fa.labels.json"), "-events", evPath, "-json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var res eval.JSONResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	r := res.Reports[0]
	if len(l.Twitches) == 0 || r.EMG.TP != len(l.Twitches) || r.EMG.F1 != 1 || r.Cramps.Found != len(l.Cramps) || r.Bouts.Found != len(l.Bouts) {
		t.Errorf("perfect events scored %+v", r)
	}
	// the acc twitches were not reported: recall 0 is a missed bar
	if r.Acc.True > 0 && len(res.Misses) == 0 {
		t.Error("no miss reported for the missing acc twitches")
	}
	code, stdout, _ = simRun(t, "eval", "-labels", filepath.Join(dir, "fa.labels.json"), "-events", evPath)
	if code != 0 || !strings.Contains(stdout, "bundled-forearm") || !strings.Contains(stdout, "EMG P") {
		t.Errorf("table: exit %d\n%s", code, stdout)
	}

	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"type\":\"twitch\"}\nnot json\n"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad events", []string{"eval", "-labels", filepath.Join(dir, "fa.labels.json"), "-events", bad}, 1, "bad.jsonl: eval: bad events file: line 2"},
		{"missing labels", []string{"eval", "-labels", filepath.Join(dir, "none.json"), "-events", evPath}, 1, "none.json"},
		{"labels without events", []string{"eval", "-labels", filepath.Join(dir, "fa.labels.json")}, 2, "give -suite NAME, or both -labels and -events"},
		{"unknown suite", []string{"eval", "-suite", "huge"}, 2, "unknown suite \"huge\""},
		{"suite and labels", []string{"eval", "-suite", "short", "-labels", "x"}, 2, "either -suite or -labels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := simRun(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, c.code, c.want)
			}
		})
	}
}

// TestEvalSuiteExitStatus runs the short suite through the CLI: the exit
// status is 1 exactly when the JSON lists missed bars.
func TestEvalSuiteExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the short suite")
	}
	keep := t.TempDir()
	code, stdout, stderr := simRun(t, "eval", "-suite", "short", "-json", "-keep", keep)
	var res eval.JSONResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("exit %d: %v\n%s\n%s", code, err, stdout, stderr)
	}
	if want := map[bool]int{true: 1, false: 0}[len(res.Misses) > 0]; code != want {
		t.Errorf("exit %d with %d misses (stderr %q)", code, len(res.Misses), stderr)
	}
	if len(res.Reports) != len(eval.Suite("short")) || res.Overall == nil {
		t.Errorf("%d reports, overall %v", len(res.Reports), res.Overall)
	}
	for _, c := range eval.Suite("short") {
		for _, ext := range []string{".csv", ".labels.json", ".events.jsonl"} {
			if _, err := os.Stat(filepath.Join(keep, c.Name+ext)); err != nil {
				t.Errorf("-keep: %v", err)
			}
		}
	}
}

// TestSimulateDevice plays a short generated recording as an ASCII device
// on a real pseudo-terminal and reads it from the other end.
func TestSimulateDevice(t *testing.T) {
	dir := t.TempDir()
	lpath := filepath.Join(dir, "dev.labels.json")
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		var out bytes.Buffer
		done <- runMain(context.Background(), []string{"simulate", "-scenario", "bundled-calf", "-seed", "4", "-minutes", "0.1",
			"-device", "ascii", "-port", "pty", "-speed", "0", "-labels", lpath}, &out, pw)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var name string
	for sc.Scan() {
		if _, after, ok := strings.Cut(sc.Text(), "stand-in on "); ok {
			name = strings.TrimSpace(after)
			break
		}
	}
	if name == "" {
		t.Fatal("no pseudo-terminal name on stderr")
	}
	go io.Copy(io.Discard, pr) // drain the rest of stderr
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counted := make(chan int, 1)
	go func() {
		lines := 0
		rd := bufio.NewScanner(f)
		for rd.Scan() {
			l := strings.TrimSpace(rd.Text())
			if strings.HasPrefix(l, "emg:") && strings.Contains(l, "acc_z:") {
				lines++
			}
		}
		counted <- lines
	}()
	var code int
	select {
	case code = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("simulate -device did not finish")
	}
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	// The stand-in has stopped; the pseudo-terminal may not report a
	// hang-up while its command reader still holds the leader, so stop
	// reading once what was written has drained.
	f.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	lines := <-counted
	t.Logf("read %d sample lines from %s", lines, name)
	// 6 s at the ASCII stand-in's 250 lines per second; lines written
	// before this end was opened may be lost, so only most must arrive
	if lines < 1000 || lines > 1510 {
		t.Errorf("read %d sample lines, want most of 1500", lines)
	}
	l, err := eval.LoadLabels(lpath)
	if err != nil {
		t.Fatal(err)
	}
	if l.Seed != 4 || l.End-l.Start != 6e9 {
		t.Errorf("labels seed %d span %d", l.Seed, l.End-l.Start)
	}
}

func TestSimulateCommandEDF(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "calf.edf")
	if code, _, stderr := simRun(t, "simulate", "-scenario", "bundled-calf", "-seed", "1", "-minutes", "0.2", "-out", out); code != 0 || !strings.Contains(stderr, "(edf)") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// EDF+ header: version "0", 4 signals + annotations, 12 one-second records
	if len(b) < 256 || string(b[:1]) != "0" || strings.TrimSpace(string(b[252:256])) != "5" || strings.TrimSpace(string(b[236:244])) != "12" {
		t.Errorf("not the expected EDF+ header: %q", b[:min(len(b), 256)])
	}
	if _, err := eval.LoadLabels(filepath.Join(dir, "calf.labels.json")); err != nil {
		t.Error(err)
	}
	if code, _, stderr := simRun(t, "simulate", "-out", out, "-format", "bdf"); code != 2 || !strings.Contains(stderr, "want csv or edf") {
		t.Errorf("-format bdf: exit %d %q", code, stderr)
	}
}
