package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/twitchd/twitchd/internal/ingest"
)

func init() {
	register(&command{
		name:    "spool",
		summary: "show the points waiting in the spool for an InfluxDB server, or send them (-send)",
		run:     runSpool,
	})
}

func runSpool(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("spool", "spool [-send] [--spool-dir DIR] --influx-url URL [--influx-bucket B]", stderr)
	cfg := ingest.Defaults()
	addInfluxFlags(fs, &cfg.Influx)
	addSpoolFlags(fs, &cfg)
	send := fs.Bool("send", false, "send the spooled points to InfluxDB now, and wait until they are written")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !cfg.Influx.Enabled() || cfg.Spool.Root == "" {
		fmt.Fprintln(stderr, "twitchd spool: --influx-url (or INFLUX_URL) and --spool-dir are needed: the spool is kept per server and bucket")
		return errUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := ingest.OpenBacklog(cfg.Influx, cfg.Spool, log)
	if err != nil {
		return err
	}
	defer b.Close()
	st := b.Stats()
	fmt.Fprintf(stdout, "%s: %d points, %d bytes in %d segments", b.Dir(), st.Pending, st.PendingBytes, st.Segments)
	if st.TornTails > 0 {
		fmt.Fprintf(stdout, "; %d torn tails (%d bytes) dropped", st.TornTails, st.TornBytes)
	}
	fmt.Fprintln(stdout)
	if !*send || st.Pending == 0 {
		return nil
	}
	sent, err := b.Send(ctx)
	fmt.Fprintf(stdout, "sent %d points: %d written, %d rejected, %d back in the spool; %d left\n",
		sent.Resent, sent.Written, sent.Rejected, sent.Back, sent.Left)
	return err
}
