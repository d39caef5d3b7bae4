// Command twitchd watches wearable accelerometer and surface-EMG data for
// muscle twitching after exercise. Run "twitchd help" for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/twitchd/twitchd/internal/sink/influx"
)

// command is one subcommand. Each lives in its own file and registers
// itself from init.
type command struct {
	name    string
	summary string // one line for "twitchd help"
	// run parses args (without the command name) and does the work. It
	// returns errUsage (wrapped or not) for bad flags, already reported.
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("twitchd: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// errUsage reports a command-line mistake whose message was printed.
var errUsage = errors.New("usage")

// errConfig wraps a configuration that cannot work, found before the
// run (a bad configuration file).
var errConfig = errors.New("configuration error")

// exitConfig is the exit status for a configuration that cannot work
// (EX_CONFIG of sysexits.h): a bad configuration file, InfluxDB refusing
// the credentials or a certificate that cannot be verified. The service
// units do not restart on it (RestartPreventExitStatus), since a restart
// cannot help.
const exitConfig = 78

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// runMain dispatches to a command and returns the exit status: 0 on
// success, 2 for usage errors, 1 for everything else.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				_ = c.run(ctx, []string{"-h"}, stdout, stderr)
				return 0
			}
		}
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "twitchd: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	err := c.run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errConfig), errors.Is(err, influx.ErrConfig):
		fmt.Fprintf(stderr, "twitchd %s: %v\n", c.name, err)
		return exitConfig
	default:
		fmt.Fprintf(stderr, "twitchd %s: %v\n", c.name, err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `twitchd watches wearable accelerometer and surface-EMG data for muscle
twitching after exercise, and reports what it measured. It does not diagnose.

Usage: twitchd COMMAND [flags] [args]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, "\nRun \"twitchd COMMAND -h\" for a command's flags.\n")
}

// newFlagSet returns a FlagSet that prints its usage to stderr with a
// synopsis line and returns errors instead of exiting.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: twitchd %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, mapping flag errors to errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return errUsage
	}
	return nil
}
