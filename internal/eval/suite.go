package eval

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/all" // registers the csv decoder
	"github.com/twitchd/twitchd/internal/detect"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/session"
	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/pipeline"
)

// Case is one scenario of a benchmark suite: generator settings and a
// seed, never a stored recording.
type Case struct {
	Name     string
	Scenario simulate.Scenario
	Seed     int64
	// Family and Split name the scenario family the case was drawn from
	// (empty in the preset suites).
	Family string
	Split  simulate.Split
	// Modalities lists the replays of the case (simulate.Modalities);
	// empty means both sensors only.
	Modalities []string
}

// caseSpec describes a case by preset and the settings it changes.
type caseSpec struct {
	name, preset   string
	seed           int64
	emgRate, accHz float64
	mains, noiseUV float64
	mainsUV        float64 // 0: the preset's
	shortMinutes   float64 // length in the short suite
}

// suiteSpecs spans noise floors 2..20 µV, mains 50 and 60 Hz, EMG at 500,
// 1000 and 2000 Hz, accelerometers at 25, 50 and 100 Hz, every activity,
// fidget-heavy rest, persistent and ceased twitching, cramps, no
// twitching and quiet rest without exercise.
var suiteSpecs = []caseSpec{
	{"calf-running-fades", "running-fades", 11, 1000, 50, 50, 4, 0, 5},
	{"forearm-lifting-stops", "lifting-stops", 12, 2000, 100, 60, 2, 0, 6},
	{"thigh-cycling-persists", "cycling-persists", 13, 500, 25, 60, 8, 0, 6},
	{"calf-cramps", "cramps", 14, 1000, 100, 50, 6, 0, 6},
	{"calf-no-twitch", "no-twitch", 15, 2000, 50, 60, 10, 0, 4},
	{"forearm-quiet-rest", "quiet-rest", 16, 500, 25, 50, 3, 0, 3},
	{"calf-fidget-rest", "fidget-rest", 17, 1000, 100, 50, 5, 0, 5},
	{"calf-noisy-60hz", "running-fades", 18, 2000, 50, 60, 20, 100, 5},
	{"bundled-calf", "bundled-calf", 1, 1000, 50, 50, 4, 0, 4},
	{"bundled-forearm", "bundled-forearm", 2, 1000, 100, 60, 4, 0, 3},
}

// Suite names.
const (
	SuiteShort         = "short"
	SuiteFull          = "full"
	SuiteFamilies      = "families"
	SuiteFamiliesShort = "families-short"
	// SuiteFamiliesTest and SuiteFamiliesTestShort draw the sealed test
	// families (simulate.TestFamilies): run them for a final report, never
	// while changing the detectors.
	SuiteFamiliesTest      = "families-test"
	SuiteFamiliesTestShort = "families-test-short"
)

// SuiteNames lists the suites Suite knows.
func SuiteNames() []string {
	return []string{SuiteShort, SuiteFull, SuiteFamilies, SuiteFamiliesShort, SuiteFamiliesTest, SuiteFamiliesTestShort}
}

// Suite returns the cases of the named suite, or nil for an unknown name:
//
//   - "full" runs every preset scenario at its defined length (about 95
//     minutes of recordings); "short" the same shrunk to 3..6 minutes,
//     replayed with both sensors;
//   - "families" draws every scenario family (simulate.Families) once per
//     variant at full length (10-60 min), "families-short" two variants
//     per family at the short end (3-20 min; Family.ShortSeeds); each case is replayed three times: both
//     sensors, EMG columns only and accelerometer columns only;
//   - "families-test" and "families-test-short" do the same with the
//     sealed test families (simulate.TestFamilies).
func Suite(name string) []Case {
	switch name {
	case SuiteFamilies, SuiteFamiliesShort:
		return FamilyCases(simulate.Families(), name == SuiteFamiliesShort)
	case SuiteFamiliesTest, SuiteFamiliesTestShort:
		return FamilyCases(simulate.TestFamilies(), name == SuiteFamiliesTestShort)
	case SuiteShort, SuiteFull:
	default:
		return nil
	}
	var out []Case
	for _, s := range suiteSpecs {
		sc, err := simulate.Preset(s.preset)
		if err != nil {
			panic("eval: suite names an unknown preset: " + s.preset)
		}
		if name == "short" {
			sc = sc.Scaled(s.shortMinutes)
		}
		sc.Name = s.name
		sc.EMGRate, sc.AccRate, sc.MainsHz, sc.NoiseUV = s.emgRate, s.accHz, s.mains, s.noiseUV
		if s.mainsUV > 0 {
			sc.MainsUV = s.mainsUV
		}
		out = append(out, Case{Name: s.name, Scenario: sc, Seed: s.seed})
	}
	return out
}

// FamilyCases returns the cases of the families suite (short or not) for
// the given families.
func FamilyCases(fams []simulate.Family, short bool) []Case {
	var out []Case
	for _, f := range fams {
		seeds := f.Seeds() // one per variant: every status of every family
		if short {
			seeds = f.ShortSeeds()
		}
		for _, seed := range seeds {
			sc := f.Draw(seed)
			if short {
				sc = f.DrawShort(seed)
			}
			out = append(out, Case{Name: sc.Name, Scenario: sc, Seed: seed, Family: f.Name, Split: f.Split, Modalities: simulate.Modalities})
		}
	}
	return out
}

// Collector is a pipeline.Sink that keeps every event in memory, except
// watermarks (a promise about time order, never written out).
type Collector struct {
	mu     sync.Mutex
	Events []pipeline.Event
}

// Write implements pipeline.Sink.
func (c *Collector) Write(ev pipeline.Event) error {
	if ev.EventType() == pipeline.TypeWatermark {
		return nil
	}
	c.mu.Lock()
	c.Events = append(c.Events, ev)
	c.mu.Unlock()
	return nil
}

// Flush implements pipeline.Sink; there is nothing to deliver.
func (c *Collector) Flush(context.Context) error { return nil }

// RunOptions set how a suite runs.
type RunOptions struct {
	// Dir, when set, keeps every case's recordings, labels and events
	// there: NAME.csv, NAME.labels.json, NAME.events.jsonl for both
	// sensors and NAME.emg.* and NAME.acc.* for the one-sensor replays.
	Dir string
	// Detect configures the detectors; nil means detect.Default().
	Detect *detect.Config
}

// RunSuite runs every case (RunCase) with the default detectors and
// returns one report per case and modality, in order. dir, when not
// empty, keeps the files (RunOptions.Dir).
func RunSuite(ctx context.Context, cases []Case, dir string) ([]Report, error) {
	return RunSuiteWith(ctx, cases, RunOptions{Dir: dir})
}

// RunSuiteWith is RunSuite with options.
func RunSuiteWith(ctx context.Context, cases []Case, opt RunOptions) ([]Report, error) {
	var out []Report
	for _, c := range cases {
		rs, err := RunCase(ctx, c, opt)
		if err != nil {
			return out, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// fileSuffix names a modality's files.
var fileSuffix = map[string]string{simulate.ModBoth: "", simulate.ModEMG: ".emg", simulate.ModAcc: ".acc"}

// RunCase generates the case once and replays it for each of its
// modalities at the same time, each from its own CSV stream (the full
// one, the EMG columns alone, the accelerometer columns alone) through
// the csv decoder, the detectors and the persistence rule, as
// `twitchd replay` would read such a file; then it scores each replay
// with DefaultOptions and the modality. The streams go through pipes, so
// an hour at 4 kHz never touches the disk unless opt.Dir keeps it.
func RunCase(ctx context.Context, c Case, opt RunOptions) ([]Report, error) {
	mods := c.Modalities
	if len(mods) == 0 {
		mods = []string{simulate.ModBoth}
	}
	type replay struct {
		mod string
		pr  *io.PipeReader
		pw  *io.PipeWriter
		f   *os.File
		col Collector
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	base := filepath.Join(opt.Dir, c.Name)
	var out simulate.Outputs
	reps := make([]*replay, len(mods))
	for i, m := range mods {
		r := &replay{mod: m}
		r.pr, r.pw = io.Pipe()
		var w io.Writer = r.pw
		if opt.Dir != "" {
			f, err := os.Create(base + fileSuffix[m] + ".csv")
			if err != nil {
				return nil, fmt.Errorf("eval: %w", err)
			}
			r.f, w = f, io.MultiWriter(r.pw, f)
		}
		switch m {
		case simulate.ModBoth:
			out.Both = w
		case simulate.ModEMG:
			out.EMG = w
		case simulate.ModAcc:
			out.Acc = w
		default:
			return nil, fmt.Errorf("eval: case %s: unknown modality %q", c.Name, m)
		}
		reps[i] = r
	}
	var wg sync.WaitGroup
	for _, r := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.err = replayStream(ctx, c, r.pr, r.mod, opt.Detect, &r.col)
			// A replay that stopped early must not leave the generator
			// blocked on its pipe.
			r.pr.CloseWithError(errReplayDone)
		}()
	}
	l, genErr := simulate.GenerateCSV(c.Scenario, c.Seed, out)
	for _, r := range reps {
		r.pw.CloseWithError(genErr)
	}
	wg.Wait()
	var errs []error
	for _, r := range reps {
		if r.f != nil {
			if err := r.f.Close(); err != nil {
				errs = append(errs, fmt.Errorf("eval: %w", err))
			}
		}
		if r.err != nil {
			errs = append(errs, fmt.Errorf("eval: case %s (%s): replay: %w", c.Name, r.mod, r.err))
		}
	}
	if genErr != nil && !errors.Is(genErr, errReplayDone) {
		errs = append(errs, fmt.Errorf("eval: case %s: %w", c.Name, genErr))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if opt.Dir != "" {
		if err := simulate.WriteLabelsFile(base+".labels.json", l); err != nil {
			return nil, err
		}
	}
	var rs []Report
	for _, r := range reps {
		if opt.Dir != "" {
			if err := writeEvents(base+fileSuffix[r.mod]+".events.jsonl", r.col.Events); err != nil {
				return nil, err
			}
		}
		so := DefaultOptions()
		so.Modality = r.mod
		rep := Score(l, r.col.Events, so)
		rep.Scenario, rep.Family, rep.Split = c.Name, c.Family, string(c.Split)
		rs = append(rs, rep)
	}
	return rs, nil
}

// errReplayDone closes a replay's pipe once the replay returned.
var errReplayDone = errors.New("eval: replay finished before the recording")

// replayStream decodes one CSV stream and runs it through the detectors
// and the rule into col.
func replayStream(ctx context.Context, c Case, r io.Reader, mod string, dc *detect.Config, col *Collector) error {
	f, err := decode.Lookup("csv")
	if err != nil {
		return err
	}
	name := c.Name + fileSuffix[mod] + ".csv"
	src, err := f.Open(r, decode.Options{Name: name})
	if err != nil {
		return err
	}
	cfg := session.Config{
		Subject: c.Scenario.Subject,
		Site:    c.Scenario.Site,
		Detect:  dc,
		Stages:  []pipeline.EventStage{rule.New(ctx, rule.DefaultConfig(), nil, nil)},
		Sinks:   []pipeline.Sink{col},
	}
	_, err = session.Run(ctx, src, cfg)
	return err
}

func writeEvents(path string, evs []pipeline.Event) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	w := bufio.NewWriter(f)
	for _, ev := range evs {
		b, err := pipeline.MarshalEvent(ev)
		if err != nil {
			f.Close()
			return err
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("eval: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("eval: %s: %w", path, err)
	}
	return nil
}

// FamilyCasesByName returns the families suite's cases of the families
// named in names (comma-separated), short or long draws.
func FamilyCasesByName(names string, short bool) ([]Case, error) {
	var fams []simulate.Family
	for _, n := range strings.Split(names, ",") {
		f, err := simulate.FamilyByName(strings.TrimSpace(n))
		if err != nil {
			return nil, err
		}
		fams = append(fams, f)
	}
	return FamilyCases(fams, short), nil
}
