package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/twitchd/twitchd/internal/detect"
	"github.com/twitchd/twitchd/internal/eval"
	"github.com/twitchd/twitchd/internal/hybrid"
	"github.com/twitchd/twitchd/internal/realdata"
	"github.com/twitchd/twitchd/internal/realdata/replay"
	"github.com/twitchd/twitchd/internal/simulate"
)

func init() {
	register(&command{
		name:    "eval",
		summary: "score detected events against simulated ground truth, or run the benchmark suite",
		run:     runEval,
	})
}

// errBarsMissed makes eval exit 1 when the suite misses a bar.
var errBarsMissed = errors.New("bars missed")

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", "eval -labels L.labels.json -events E.events.jsonl [-modality both|emg|acc] [-json] [-v]\n       twitchd eval -suite short|full|families|families-short|families-test|families-test-short [-family NAME,...] [-lofo] [-json] [-keep DIR] [-v]\n       twitchd eval -real DIR\n       twitchd eval -hybrid DIR [-seed N] [-draws N] [-json]", stderr)
	labels := fs.String("labels", "", "labels JSON written by twitchd simulate")
	events := fs.String("events", "", "events file (JSON lines) to score")
	suite := fs.String("suite", "", "run a benchmark suite: "+strings.Join(eval.SuiteNames(), " or "))
	keep := fs.String("keep", "", "suite: keep the generated recordings, labels and events in this directory")
	family := fs.String("family", "", "families suites: run only these families (comma-separated names, see simulate -list)")
	modality := fs.String("modality", simulate.ModBoth, "with -labels: the sensors the replay had: both, emg or acc")
	lofo := fs.Bool("lofo", false, "families suites: leave one family out: score each family with the detector thresholds that do best on the others (one suite run per combination of eval.TunedParams)")
	realDir := fs.String("real", "", "replay every real recording in DIR (e.g. ../shared/data/real) with the flags it needs and print twitches, bouts, cramps and status per file; exit 1 if any ends persistent")
	hybridDir := fs.String("hybrid", "", "inject simulated twitches into the real recordings in DIR and print recall, precision and false alarms per hour of rest; exit 1 if a bar is missed")
	seed := fs.Int64("seed", hybrid.Default().Seed, "hybrid: seed of the injections")
	draws := fs.Int("draws", hybrid.Default().Draws, "hybrid: draws per recording")
	asJSON := fs.Bool("json", false, "print JSON instead of the table")
	verbose := fs.Bool("v", false, "list every missed and false detection")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "twitchd eval: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	switch modes := countSet(*suite != "", *labels != "" || *events != "", *realDir != "", *hybridDir != ""); {
	case modes > 1 && (*realDir != "" || *hybridDir != ""):
		fmt.Fprintln(stderr, "twitchd eval: give one of -suite, -labels/-events, -real and -hybrid")
		return errUsage
	case *realDir != "":
		return evalReal(ctx, *realDir, stdout)
	case *hybridDir != "":
		if *draws < 1 {
			fmt.Fprintln(stderr, "twitchd eval: -draws must be at least 1")
			return errUsage
		}
		cfg := hybrid.Default()
		cfg.Seed, cfg.Draws = *seed, *draws
		return evalHybrid(ctx, *hybridDir, cfg, *asJSON, *verbose, stdout)
	}
	var reports []eval.Report
	families := strings.HasPrefix(*suite, eval.SuiteFamilies)
	if (*family != "" || *lofo) && !families {
		fmt.Fprintln(stderr, "twitchd eval: -family and -lofo need -suite families or families-short")
		return errUsage
	}
	switch {
	case *suite != "" && (*labels != "" || *events != ""):
		fmt.Fprintln(stderr, "twitchd eval: give either -suite or -labels and -events")
		return errUsage
	case *suite != "":
		cases := eval.Suite(*suite)
		if cases == nil {
			fmt.Fprintf(stderr, "twitchd eval: unknown suite %q (want %s)\n", *suite, strings.Join(eval.SuiteNames(), " or "))
			return errUsage
		}
		if *family != "" {
			var err error
			if cases, err = eval.FamilyCasesByName(*family, strings.HasSuffix(*suite, "-short")); err != nil {
				return err
			}
		}
		if *lofo {
			res, err := eval.LeaveOneFamilyOut(ctx, cases, eval.TunedParams, detect.Default())
			if err != nil {
				return err
			}
			if *asJSON {
				return eval.WriteLOFOJSON(stdout, res)
			}
			return eval.WriteLOFOTable(stdout, res, eval.TunedParams)
		}
		if *keep != "" {
			if err := os.MkdirAll(*keep, 0o755); err != nil {
				return err
			}
		}
		rs, err := eval.RunSuite(ctx, cases, *keep)
		if err != nil {
			return err
		}
		reports = rs
	case *labels != "" && *events != "":
		if !slices.Contains(simulate.Modalities, *modality) {
			fmt.Fprintf(stderr, "twitchd eval: -modality %q: want both, emg or acc\n", *modality)
			return errUsage
		}
		l, err := eval.LoadLabels(*labels)
		if err != nil {
			return err
		}
		evs, err := eval.ReadEventsFile(*events)
		if err != nil {
			return err
		}
		opt := eval.DefaultOptions()
		opt.Modality = *modality
		reports = []eval.Report{eval.Score(l, evs, opt)}
	default:
		fmt.Fprintln(stderr, "twitchd eval: give -suite NAME, or both -labels and -events")
		return errUsage
	}
	misses := eval.SuiteMisses(reports)
	if families {
		misses = eval.FamilyBars(reports)
	}
	if err := eval.WriteReports(stdout, reports, misses, eval.Output{Families: families, JSON: *asJSON, Verbose: *verbose}); err != nil {
		return err
	}
	if *suite != "" && len(misses) > 0 {
		return fmt.Errorf("%w: %d", errBarsMissed, len(misses))
	}
	return nil
}

// countSet counts the true values.
func countSet(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// evalReal prints the guard's table: every real recording replayed.
func evalReal(ctx context.Context, dir string, stdout io.Writer) error {
	bad, err := replay.Check(ctx, dir, stdout)
	if err == nil && bad > 0 {
		err = fmt.Errorf("%w: %d real recordings end persistent or fail", errBarsMissed, bad)
	}
	return err
}

// evalHybrid prints the hybrid recordings' scores.
func evalHybrid(ctx context.Context, dir string, cfg hybrid.Config, asJSON, verbose bool, stdout io.Writer) error {
	if err := realdata.CheckDir(dir); err != nil {
		return err
	}
	rs, err := hybrid.Run(ctx, dir, cfg)
	if err != nil {
		return err
	}
	ms, err := hybrid.Report(stdout, rs, asJSON, verbose)
	if err == nil && len(ms) > 0 {
		err = fmt.Errorf("%w: %d", errBarsMissed, len(ms))
	}
	return err
}
