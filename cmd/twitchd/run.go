package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"github.com/twitchd/twitchd/internal/config"
	"github.com/twitchd/twitchd/internal/ingest"
	"github.com/twitchd/twitchd/internal/source/serial"
)

func init() {
	register(&command{
		name:    "run",
		summary: "collect live from a serial device (OpenBCI Cyton, BITalino, Arduino ASCII) and watch it",
		run:     runLive,
	})
}

// deviceFlags are run's flags that override the chosen [[device]].
type deviceFlags struct {
	port, protocol string
	baud           int
	rate           float64
	counter        bool
}

// bindRun binds run's flags into st and d.
func bindRun(d *deviceFlags) func(*flag.FlagSet, *config.Settings) {
	return func(fs *flag.FlagSet, st *config.Settings) {
		addIngestFlags(fs, st)
		fs.StringVar(&d.port, "port", "", "serial port, e.g. /dev/ttyUSB0 or a /dev/serial/by-id/ name (see \"twitchd ports\")")
		fs.StringVar(&d.protocol, "protocol", "", "device protocol: "+strings.Join(serial.ProtocolNames(), ", "))
		fs.IntVar(&d.baud, "baud", 0, "baud rate (default 115200)")
		fs.StringVar(&st.Device, "device", st.Device, "the [[device]] of the configuration file to use, by name (default: the only one); \"all\": every one, in this one process")
		fs.DurationVar(&st.Ingest.StopAfter, "duration", st.Ingest.StopAfter, "stop after this long (default: until SIGINT or SIGTERM)")
		fs.Float64Var(&d.rate, "rate", 0, "ascii: line rate in Hz; bitalino: 1, 10, 100 or 1000 (default 1000)")
		fs.BoolVar(&d.counter, "counter", false, "ascii: lines start with a millisecond counter")
		fs.BoolVar(&st.Ingest.Strict, "strict", st.Ingest.Strict, "stop at the first garbled frame or line instead of skipping it")
	}
}

func runLive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var d deviceFlags
	fs, st, err := configure("run", "run --port PATH --protocol NAME [--baud N] [--config FILE [--device NAME]] [--duration D] [flags]",
		args, stderr, bindRun(&d))
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "twitchd run: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg := st.Ingest
	if st.Device == allDevices {
		for _, f := range []string{"port", "protocol", "baud", "rate", "counter", "listen"} {
			if set[f] {
				fmt.Fprintf(stderr, "twitchd run: --%s does not go with --device all\n", f)
				return errUsage
			}
		}
		return runAll(ctx, st, stdout, stderr)
	}
	dev, fromFile, err := st.FindDevice(st.Device)
	if err != nil {
		fmt.Fprintf(stderr, "twitchd run: %v\n", err)
		return errUsage
	}
	if set["port"] {
		dev.Port = d.port
	}
	if set["protocol"] {
		dev.Protocol = d.protocol
	}
	if set["baud"] {
		dev.Baud = d.baud
	}
	if fromFile && !set["subject"] && dev.Subject != "" {
		cfg.Subject = dev.Subject
	}
	if fromFile && !set["site"] && dev.Site != "" {
		cfg.Site = dev.Site
	}
	err = dev.Validate()
	if err == nil && set["rate"] {
		err = dev.Set("rate", d.rate)
	}
	if err == nil && set["counter"] {
		err = dev.Set("counter", d.counter)
	}
	if err != nil {
		fmt.Fprintf(stderr, "twitchd run: %v\n", err)
		fs.Usage()
		return errUsage
	}
	cfg.Device = &dev
	cfg.Stdout, cfg.Log = stdout, logger(stderr, st, slog.LevelInfo)
	res, err := runIngest(ctx, "run", cfg, stderr)
	if err != nil {
		return err
	}
	return resultError(res)
}

// allDevices is the --device value that runs every [[device]].
const allDevices = "all"

// runAll runs every [[device]] of the configuration in this process,
// each as its own ingest run (its own sink, spool directory under the
// spool root, and events file) sharing one Go runtime, as several
// "twitchd run --device NAME" processes would. The events file, if
// any, gets the device's name before its extension; the device's
// subject and site apply unless given as flags; /healthz is not served.
// It returns the first failure, after every run has ended.
func runAll(ctx context.Context, st *config.Settings, stdout, stderr io.Writer) error {
	if len(st.Devices) == 0 {
		fmt.Fprintln(stderr, "twitchd run: --device all: the configuration file has no [[device]]")
		return errUsage
	}
	log := logger(stderr, st, slog.LevelInfo)
	errs := make([]error, len(st.Devices))
	var wg sync.WaitGroup
	var mu sync.Mutex // one summary at a time on stderr
	for i := range st.Devices {
		dev := &st.Devices[i]
		if err := dev.Validate(); err != nil {
			fmt.Fprintf(stderr, "twitchd run: device %s: %v\n", dev.Name, err)
			return errUsage
		}
		cfg := st.Ingest
		cfg.Device = dev
		if dev.Subject != "" {
			cfg.Subject = dev.Subject
		}
		if dev.Site != "" {
			cfg.Site = dev.Site
		}
		if cfg.Spool.Root != "" {
			cfg.Spool.Root = filepath.Join(cfg.Spool.Root, dev.Name)
		}
		if cfg.Events != "" && cfg.Events != "-" {
			ext := filepath.Ext(cfg.Events)
			cfg.Events = strings.TrimSuffix(cfg.Events, ext) + "." + dev.Name + ext
		}
		cfg.Health = ingest.Health{}
		cfg.Stdout, cfg.Log = stdout, log.With("device", dev.Name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			res, err := runIngest(ctx, "run", cfg, &out)
			if err == nil {
				err = resultError(res)
			}
			if err != nil {
				err = fmt.Errorf("device %s: %w", dev.Name, err)
			}
			errs[i] = err
			mu.Lock()
			fmt.Fprintf(stderr, "device %s:\n%s", dev.Name, out.Bytes())
			mu.Unlock()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
