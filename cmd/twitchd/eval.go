package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/twitchd/twitchd/internal/detect"
	"github.com/twitchd/twitchd/internal/eval"
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
	fs := newFlagSet("eval", "eval -labels L.labels.json -events E.events.jsonl [-modality both|emg|acc] [-json] [-v]\n       twitchd eval -suite short|full|families|families-short [-family NAME,...] [-lofo] [-json] [-keep DIR] [-v]", stderr)
	labels := fs.String("labels", "", "labels JSON written by twitchd simulate")
	events := fs.String("events", "", "events file (JSON lines) to score")
	suite := fs.String("suite", "", "run a benchmark suite: "+strings.Join(eval.SuiteNames(), " or "))
	keep := fs.String("keep", "", "suite: keep the generated recordings, labels and events in this directory")
	family := fs.String("family", "", "families suites: run only these families (comma-separated names, see simulate -list)")
	modality := fs.String("modality", simulate.ModBoth, "with -labels: the sensors the replay had: both, emg or acc")
	lofo := fs.Bool("lofo", false, "families suites: leave one family out: score each family with the detector thresholds that do best on the others (one suite run per combination of eval.TunedParams)")
	asJSON := fs.Bool("json", false, "print JSON instead of the table")
	verbose := fs.Bool("v", false, "list every missed and false detection")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "twitchd eval: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	var reports []eval.Report
	families := *suite == eval.SuiteFamilies || *suite == eval.SuiteFamiliesShort
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
			if cases, err = familyCases(*family, *suite == eval.SuiteFamiliesShort); err != nil {
				return err
			}
		}
		if *lofo {
			return runLOFO(ctx, cases, *asJSON, stdout)
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
		if !slices.Contains(simulate.Modalities, opt.Modality) {
			fmt.Fprintf(stderr, "twitchd eval: -modality %q: want both, emg or acc\n", *modality)
			return errUsage
		}
		reports = []eval.Report{eval.Score(l, evs, opt)}
	default:
		fmt.Fprintln(stderr, "twitchd eval: give -suite NAME, or both -labels and -events")
		return errUsage
	}
	misses := eval.SuiteMisses(reports)
	if families {
		misses = eval.FamilyBars(reports)
	}
	if !*verbose {
		for i := range reports {
			reports[i].Errors = nil
		}
	}
	var err error
	switch {
	case *asJSON && families:
		err = eval.WriteFamilyJSON(stdout, reports, misses)
	case *asJSON:
		err = eval.WriteJSON(stdout, reports, misses)
	default:
		if families {
			err = eval.WriteFamilyTable(stdout, reports, misses)
		} else {
			err = eval.WriteTable(stdout, reports, misses)
		}
		if *verbose {
			for _, r := range reports {
				for _, e := range r.Errors {
					fmt.Fprintf(stdout, "%s [%s]: %s\n", r.Scenario, r.Modality, e)
				}
				if !r.Status.Agree && r.Status.Expected != "" {
					fmt.Fprintf(stdout, "%s [%s]: status %s, expected %s (%s); got because: %s\n", r.Scenario, r.Modality, r.Status.Got, r.Status.Expected, r.Status.Reason, r.Status.GotReason)
				}
			}
		}
	}
	if err != nil {
		return err
	}
	if *suite != "" && len(misses) > 0 {
		return fmt.Errorf("%w: %d", errBarsMissed, len(misses))
	}
	return nil
}

// familyCases returns the families suite's cases of the named families.
func familyCases(names string, short bool) ([]eval.Case, error) {
	var fams []simulate.Family
	for _, n := range strings.Split(names, ",") {
		f, err := simulate.FamilyByName(strings.TrimSpace(n))
		if err != nil {
			return nil, err
		}
		fams = append(fams, f)
	}
	return eval.FamilyCases(fams, short), nil
}

// runLOFO runs the leave-one-family-out evaluation and prints it.
func runLOFO(ctx context.Context, cases []eval.Case, asJSON bool, stdout io.Writer) error {
	res, err := eval.LeaveOneFamilyOut(ctx, cases, eval.TunedParams, detect.Default())
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return eval.WriteLOFOTable(stdout, res, eval.TunedParams)
}
