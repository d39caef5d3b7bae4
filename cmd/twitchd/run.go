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

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/decode/ascii"
	"github.com/twitchd/twitchd/internal/decode/bitalino"
	"github.com/twitchd/twitchd/internal/decode/cyton"
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
	out := addOutputFlags(fs)
	port := fs.String("port", "", "serial port, e.g. /dev/ttyUSB0 or a /dev/serial/by-id/ name (see \"twitchd ports\")")
	protocol := fs.String("protocol", "", "device protocol: "+strings.Join(serial.Protocols, ", "))
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
	if set["rate"] {
		dev.Rate = *rate
	}
	if set["counter"] {
		dev.Counter = *counter
	}
	if !set["subject"] && dev.Subject != "" {
		out.subject = dev.Subject
	}
	if !set["site"] && dev.Site != "" {
		out.site = dev.Site
	}
	if err := dev.Validate(); err != nil {
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

	src, conn, err := dialDevice(ctx, dev, *strict, log)
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
	log.Info("run: collecting", "port", dev.Port, "protocol", dev.Protocol, "subject", out.subject, "site", out.site)
	verdicts := &lastAssessment{}
	res, runErr := session.Run(ctx, sinks.metrics.source(src), session.Config{
		Subject: out.subject, Site: out.site, Session: out.session,
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

// dialDevice opens dev's port with its protocol and returns the live
// Source and the connection under it.
func dialDevice(ctx context.Context, dev serial.Device, strict bool, log *slog.Logger) (*serial.Stream, *serial.Conn, error) {
	cc := serial.ConnConfig{Name: dev.Port, Baud: dev.Baud, Log: log}
	so := serial.StreamOptions{Strict: strict, Log: log}
	switch dev.Protocol {
	case cyton.Name:
		over, err := cytonChannels(dev)
		if err != nil {
			return nil, nil, err
		}
		so.Channels = over
		s, c := cyton.Dial(ctx, cc, cyton.Config{Gain: dev.Gain, AccelHold: dev.AccelHold}, so)
		return s, c, nil
	case bitalino.Name:
		cfg, err := bitalinoConfig(dev)
		if err != nil {
			return nil, nil, err
		}
		return bitalino.Dial(ctx, cc, cfg, so)
	case ascii.Name:
		cfg, err := asciiConfig(dev)
		if err != nil {
			return nil, nil, err
		}
		return ascii.Dial(ctx, cc, cfg, so)
	}
	return nil, nil, fmt.Errorf("unknown protocol %q", dev.Protocol)
}

// cytonChannels renames Cyton channels (index 0..7 the EXG inputs, 8..10
// the accelerometer) and lets an EXG input be marked "other" (unused).
func cytonChannels(dev serial.Device) (func([]pipeline.Channel), error) {
	if len(dev.Channels) == 0 {
		return nil, nil
	}
	for _, ch := range dev.Channels {
		if ch.Index == nil || *ch.Index > 10 {
			return nil, fmt.Errorf("openbci-cyton: channel %q needs index 0..10 (exg0..exg7, acc_x..acc_z)", ch.Name)
		}
		if *ch.Index < 8 && ch.Kind != "" && ch.Kind != "emg" && ch.Kind != "other" {
			return nil, fmt.Errorf("openbci-cyton: exg%d can be emg or other, not %q", *ch.Index, ch.Kind)
		}
		if *ch.Index >= 8 && ch.Kind != "" && ch.Kind != "acc" {
			return nil, fmt.Errorf("openbci-cyton: channel %d is the accelerometer (kind acc)", *ch.Index)
		}
	}
	return func(chs []pipeline.Channel) {
		for _, ch := range dev.Channels {
			c := &chs[*ch.Index]
			if ch.Name != "" {
				c.Name = ch.Name
			}
			if ch.Kind == "other" {
				c.Kind = pipeline.KindOther
			}
		}
	}, nil
}

// bitalinoConfig maps configured channels (index 0 = A1) to sensors and
// the channel mask; without channels the defaults apply.
func bitalinoConfig(dev serial.Device) (bitalino.Config, error) {
	cfg := bitalino.DefaultConfig()
	if dev.Rate > 0 {
		cfg.Rate = int(dev.Rate)
	}
	if len(dev.Channels) == 0 {
		return cfg, nil
	}
	cfg.Mask = 0
	for _, ch := range dev.Channels {
		if ch.Index == nil || *ch.Index > 5 {
			return cfg, fmt.Errorf("bitalino: channel %q needs index 0..5 (A1..A6)", ch.Name)
		}
		kind, err := pipeline.ParseKind(orDefault(ch.Kind, "other"))
		if err != nil {
			return cfg, err
		}
		s := bitalino.Sensor{Kind: kind, Name: ch.Name, Cmin: ch.Cmin, Cmax: ch.Cmax}
		if ch.Axis != "" {
			s.Axis = ch.Axis[0]
		}
		cfg.Sensors[*ch.Index] = s
		cfg.Mask |= 1 << *ch.Index
	}
	return cfg, nil
}

// asciiConfig maps configured columns; without them they are inferred
// from the first line.
func asciiConfig(dev serial.Device) (ascii.Config, error) {
	cfg := ascii.Config{Rate: dev.Rate, Counter: dev.Counter}
	if cfg.Rate <= 0 {
		return cfg, errors.New("ascii: the line rate is needed (--rate or rate = ... in the config)")
	}
	for _, ch := range dev.Channels {
		kind, err := pipeline.ParseKind(orDefault(ch.Kind, "other"))
		if err != nil {
			return cfg, err
		}
		c := ascii.Column{Label: ch.Label, Name: ch.Name, Kind: kind, Unit: ch.Unit, ADCBits: ch.ADCBits,
			VRef: ch.VRef, Gain: ch.Gain, Offset: ch.Offset, Scale: ch.Scale}
		if ch.Index != nil {
			c.Index = *ch.Index
		}
		if ch.Axis != "" {
			c.Axis = ch.Axis[0]
		}
		if _, err := decode.Scale(kind, orDefault(ch.Unit, decode.CanonicalUnit(kind))); err != nil {
			return cfg, fmt.Errorf("ascii: channel %q: %w", ch.Name, err)
		}
		cfg.Columns = append(cfg.Columns, c)
	}
	return cfg, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
