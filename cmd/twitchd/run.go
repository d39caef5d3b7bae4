package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

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
		devices, err := serial.LoadConfig(*config)
		if err != nil {
			return err
		}
		if dev, err = devices.Find(*devName); err != nil {
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
	cfg.Device, cfg.Strict, cfg.StopAfter = &dev, *strict, *duration
	cfg.Stdout, cfg.Log = stdout, out.logger(stderr, slog.LevelInfo)
	res, err := runIngest(ctx, "run", cfg, stderr)
	if err != nil {
		return err
	}
	if err := res.LostError(); err != nil {
		return err
	}
	return res.Streams[0].Err
}
