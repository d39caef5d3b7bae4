package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/twitchd/twitchd/internal/config"
)

func init() {
	register(&command{
		name:    "config",
		summary: "print a commented sample configuration file (config sample), or check one (config check FILE)",
		run:     runConfig,
	})
}

func runConfig(_ context.Context, args []string, stdout, stderr io.Writer) error {
	usage := func() error {
		fmt.Fprintln(stderr, "Usage: twitchd config sample\n       twitchd config check FILE...")
		return errUsage
	}
	if len(args) == 0 {
		return usage()
	}
	switch args[0] {
	case "sample":
		if len(args) != 1 {
			return usage()
		}
		fmt.Fprint(stdout, config.Sample())
		return nil
	case "check":
		if len(args) < 2 {
			return usage()
		}
		var bad []error
		for _, path := range args[1:] {
			f, err := config.Load(path)
			if err != nil {
				bad = append(bad, err)
				continue
			}
			st := config.Defaults()
			f.Apply(&st)
			fmt.Fprintf(stdout, "%s: ok (%d of %d keys set, %d [[device]] tables)\n", path, f.Count(), len(config.Keys()), len(st.Devices))
		}
		if len(bad) > 0 {
			return fmt.Errorf("%w:\n%w", errConfig, errors.Join(bad...))
		}
		return nil
	case "-h", "--help", "help":
		usage()
		return nil
	}
	return usage()
}
