package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	_ "github.com/twitchd/twitchd/internal/decode/csv"
	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/internal/simulate/device"
)

func init() {
	register(&command{
		name:    "simulate",
		summary: "write a realistic simulated recording (CSV or EDF) and its ground-truth labels",
		run:     runSimulate,
	})
}

func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("simulate", "simulate -scenario NAME -seed N [-minutes M] -out PATH[.csv|.edf] [-labels PATH] [flags]\n       twitchd simulate -family NAME -seed N [-short] -out PATH [-emg-only|-acc-only]\n       twitchd simulate -scenario NAME -seed N -device openbci-cyton|bitalino|ascii [-port PATH|pty] [-speed N] [-labels PATH]\n       twitchd simulate -list", stderr)
	name := fs.String("scenario", "bundled-calf", "scenario name (see -list)")
	seed := fs.Int64("seed", 1, "random seed: the same seed gives the same bytes")
	minutes := fs.Float64("minutes", 0, "stretch or shrink the scenario to this many minutes (0: as defined)")
	out := fs.String("out", "", "recording to write (\"-\" for standard output)")
	format := fs.String("format", "", "csv or edf (default: edf when OUT ends in .edf, else csv)")
	labels := fs.String("labels", "", "labels JSON to write (default: OUT without extension + .labels.json)")
	emgRate := fs.Float64("emg-rate", 0, "EMG sample rate, 250..4000 Hz (0: the scenario's)")
	accRate := fs.Float64("acc-rate", 0, "accelerometer sample rate, 25..200 Hz (0: the scenario's)")
	mains := fs.Float64("mains", -1, "mains frequency, 50 or 60 Hz, 0 for none (-1: the scenario's)")
	noise := fs.Float64("noise-uv", -1, "EMG noise floor in µV RMS (-1: the scenario's)")
	list := fs.Bool("list", false, "list the scenarios and families and exit")
	family := fs.String("family", "", "draw the scenario from this family instead (see -list); the seed picks the variant")
	short := fs.Bool("short", false, "with -family: the short draw (3-20 min) the families-short suite uses")
	emgOnly := fs.Bool("emg-only", false, "write only the time and EMG columns (a CSV as from an EMG-only device)")
	accOnly := fs.Bool("acc-only", false, "write only the accelerometer samples (a CSV as from an accelerometer-only device)")
	dev := fs.String("device", "", "instead of writing a file, play the recording as a serial device: "+device.Cyton+", "+device.BITalino+" or "+device.ASCII)
	port := fs.String("port", "pty", "with -device: serial port path, or pty for a new pseudo-terminal (its name is printed)")
	speed := fs.Float64("speed", 1, "with -device: 1 real time, N times faster, 0 as fast as the reader takes it")
	baud := fs.Int("baud", 115200, "with -device and a port path: baud rate")
	capture := fs.String("capture", "", "with -device: write the bytes the device would send to this file instead of playing them on a port")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *list {
		return simulate.WriteCatalogue(stdout)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "twitchd simulate: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	if *out == "" && *dev == "" {
		fmt.Fprintln(stderr, "twitchd simulate: -out (or -device) is required")
		return errUsage
	}
	if *out != "" && *dev != "" {
		fmt.Fprintln(stderr, "twitchd simulate: give either -out or -device")
		return errUsage
	}
	sc, err := simulate.Preset(*name)
	if *family != "" {
		var f simulate.Family
		if f, err = simulate.FamilyByName(*family); err == nil {
			sc = f.Draw(*seed)
			if *short {
				sc = f.DrawShort(*seed)
			}
		}
	}
	if err != nil {
		return err
	}
	if *minutes > 0 {
		sc = sc.Scaled(*minutes)
	}
	if *emgRate > 0 {
		sc.EMGRate = *emgRate
	}
	if *accRate > 0 {
		sc.AccRate = *accRate
	}
	if *mains >= 0 {
		sc.MainsHz = *mains
	}
	if *noise >= 0 {
		sc.NoiseUV = *noise
	}
	if err := sc.Validate(); err != nil {
		return err
	}
	if *dev != "" {
		opts := device.Options{Protocol: *dev, Port: *port, Baud: *baud, Speed: *speed, Log: stderr, Seed: uint64(*seed)}
		if *capture != "" {
			return device.CaptureScenarioFile(sc, *seed, opts, *capture, *labels)
		}
		return playSimulation(ctx, sc, *seed, opts, *labels, stderr)
	}
	lpath := *labels
	if lpath == "" {
		if *out == "-" {
			fmt.Fprintln(stderr, "twitchd simulate: -labels is required with -out -")
			return errUsage
		}
		lpath = simulate.LabelsPath(*out)
	}
	f := strings.ToLower(*format)
	if f == "" {
		f = simulate.FormatFor(*out)
	}
	if f != simulate.FormatCSV && f != simulate.FormatEDF {
		fmt.Fprintf(stderr, "twitchd simulate: -format %q: want csv or edf\n", *format)
		return errUsage
	}
	switch {
	case *emgOnly && *accOnly:
		fmt.Fprintln(stderr, "twitchd simulate: give -emg-only or -acc-only, not both")
		return errUsage
	case (*emgOnly || *accOnly) && f != simulate.FormatCSV:
		fmt.Fprintln(stderr, "twitchd simulate: -emg-only and -acc-only write CSV")
		return errUsage
	case *emgOnly:
		f = simulate.FormatEMGCSV
	case *accOnly:
		f = simulate.FormatAccCSV
	}
	if *out == "-" {
		l, err := simulate.WriteRecording(sc, *seed, f, stdout)
		if err != nil {
			return err
		}
		return simulate.WriteLabelsFile(lpath, l)
	}
	l, err := simulate.WriteFiles(sc, *seed, f, *out, lpath)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "twitchd simulate: %s seed %d: %.0f s at %g Hz EMG / %g Hz acc -> %s (%s); %s; labels %s\n",
		sc.Name, *seed, sc.Seconds(), sc.EMGRate, sc.AccRate, *out, f, l.Describe(), lpath)
	return nil
}

// playSimulation plays the scenario as a serial device and writes its
// labels to lpath, when given, once the whole recording was played.
func playSimulation(ctx context.Context, sc simulate.Scenario, seed int64, opts device.Options, lpath string, stderr io.Writer) error {
	l, err := device.PlayScenario(ctx, sc, seed, opts)
	if err != nil {
		return err
	}
	if l == nil {
		fmt.Fprintln(stderr, "twitchd simulate: stopped before the end; labels not written")
		return nil
	}
	if lpath != "" {
		if err := simulate.WriteLabelsFile(lpath, l); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "twitchd simulate: played %s seed %d (%.0f s); labels %s\n", sc.Name, seed, sc.Seconds(), lpath)
	}
	return nil
}
