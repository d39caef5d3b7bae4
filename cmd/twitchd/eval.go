package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/twitchd/twitchd/internal/eval"
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
	fs := newFlagSet("eval", "eval -labels L.labels.json -events E.events.jsonl [-json] [-v]\n       twitchd eval -suite short|full [-json] [-keep DIR] [-v]", stderr)
	labels := fs.String("labels", "", "labels JSON written by twitchd simulate")
	events := fs.String("events", "", "events file (JSON lines) to score")
	suite := fs.String("suite", "", "run a benchmark suite: "+strings.Join(eval.SuiteNames(), " or "))
	keep := fs.String("keep", "", "suite: keep the generated recordings, labels and events in this directory")
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
		dir := *keep
		if dir == "" {
			tmp, err := os.MkdirTemp("", "twitchd-eval-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			dir = tmp
		} else if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		rs, err := eval.RunSuite(ctx, cases, dir)
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
		reports = []eval.Report{eval.Score(l, evs, eval.DefaultOptions())}
	default:
		fmt.Fprintln(stderr, "twitchd eval: give -suite NAME, or both -labels and -events")
		return errUsage
	}
	misses := eval.SuiteMisses(reports)
	if !*verbose {
		for i := range reports {
			reports[i].Errors = nil
		}
	}
	var err error
	if *asJSON {
		err = eval.WriteJSON(stdout, reports, misses)
	} else {
		err = eval.WriteTable(stdout, reports, misses)
		if *verbose {
			for _, r := range reports {
				for _, e := range r.Errors {
					fmt.Fprintf(stdout, "%s: %s\n", r.Scenario, e)
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
