package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/ingest"
	"github.com/twitchd/twitchd/internal/session"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/pipeline"
)

func init() {
	register(&command{
		name:    "run",
		summary: "collect live from a serial device (OpenBCI Cyton, BITalino, Arduino ASCII) and watch it",
		run:     runLive,
	})
}

func runLive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "run --port PATH --protocol NAME [--baud N] [--config FILE [--device NAME]] [--duration D] [flags]", stderr)
	var cfg ingest.Config
	out := addOutputFlags(fs, &cfg)
	port := fs.String("port", "", "serial port, e.g. /dev/ttyUSB0 or a /dev/serial/by-id/ name (see \"twitchd ports\")")
	protocol := fs.String("protocol", "", "device protocol: "+strings.Join(serial.ProtocolNames(), ", "))
	baud := fs.Int("baud", 0, "baud rate (default 115200)")
	config := fs.String("config", "", "device configuration file (TOML); flags override it")
	devName := fs.String("device", "", "with --config: the [[device]] to use, by name (default: the only one)")
	duration := fs.Duration("duration", 0, "stop after this long (default: until SIGINT or SIGTERM)")
	rate := fs.Float64("rate", 0, "ascii: line rate in Hz; bitalino: 1, 10, 100 or 1000 (default 1000)")
	counter := fs.Bool("counter", false, "ascii: lines start with a millisecond counter")
	strict := fs.Bool("strict", false, "stop at the first garbled frame or line instead of skipping it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "twitchd run: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var dev serial.Device
	if *config != "" {
		cfg, err := serial.LoadConfig(*config)
		if err != nil {
			return err
		}
		if dev, err = cfg.Find(*devName); err != nil {
			return err
		}
	}
	if set["port"] {
		dev.Port = *port
	}
	if set["protocol"] {
		dev.Protocol = *protocol
	}
	if set["baud"] {
		dev.Baud = *baud
	}
	if !set["subject"] && dev.Subject != "" {
		cfg.Subject = dev.Subject
	}
	if !set["site"] && dev.Site != "" {
		cfg.Site = dev.Site
	}
	err := dev.Validate()
	if err == nil && set["rate"] {
		err = dev.Set("rate", *rate)
	}
	if err == nil && set["counter"] {
		err = dev.Set("counter", *counter)
	}
	if err != nil {
		fmt.Fprintf(stderr, "twitchd run: %v\n", err)
		fs.Usage()
		return errUsage
	}
	if *duration > 0 {
		// Cancel (not a deadline): the Runner takes cancellation as a clean
		// stop and writes the summary.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer time.AfterFunc(*duration, cancel).Stop()
		defer cancel()
	}
	level := slog.LevelInfo
	if out.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	src, conn, err := dev.Dial(ctx, serial.StreamOptions{Strict: *strict}, log)
	if err != nil {
		return err
	}
	sinks, err := out.open(stdout, log)
	if err != nil {
		conn.Close()
		return err
	}
	stopHealth, err := out.serveHealth(sinks)
	if err != nil {
		conn.Close()
		sinks.close(context.Background())
		fmt.Fprintf(stderr, "twitchd run: %v\n", err)
		return errUsage
	}
	defer stopHealth()
	log.Info("run: collecting", "port", dev.Port, "protocol", dev.Protocol, "subject", cfg.Subject, "site", cfg.Site)
	verdicts := &lastAssessment{}
	res, runErr := session.Run(ctx, sinks.metrics.source(src), session.Config{
		Subject: cfg.Subject, Site: cfg.Site, Session: cfg.Session,
		Stages: sinks.stages(ctx), Sinks: append([]pipeline.Sink{verdicts}, sinks.sinks...), Log: log,
	})
	conn.Close()
	logPanic(log, runErr)
	if res.Summary.File != "" {
		printSummary(stderr, res, sinks.influxCounts(), sinks.influx != nil)
		verdicts.print(stderr)
	}
	cs, ds := conn.Stats(), src.DeviceStats()
	fmt.Fprintf(stderr, "  serial: %d bytes, %d connections, %d losses; lost samples %d by counter, %d by clock in %d gaps; %d counter resets\n",
		cs.Bytes, cs.Connects, cs.Losses, ds.CounterLost, ds.ClockLost, ds.ClockGaps, ds.Resets)
	// Whatever InfluxDB has not taken within closeTimeout goes to the
	// spool, which the next start sends.
	sinks.finalDrain = stopDrainTimeout
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	if err := sinks.close(cctx); err != nil {
		return err
	}
	if sinks.influx != nil {
		sinks.printSpool(stderr)
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) && !errors.Is(runErr, context.DeadlineExceeded) {
		return runErr
	}
	return nil
}
