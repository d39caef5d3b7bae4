package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/twitchd/twitchd/internal/influxtest"
)

// TestMain keeps every test's spool out of the user's home (the default
// --spool-dir is under XDG_STATE_HOME) and stops the influxd the tests
// share (influxtest.Shared).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "twitchd-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_STATE_HOME", dir)
	code := influxtest.Run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs the CLI in process and returns the exit status and output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = runMain(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}
