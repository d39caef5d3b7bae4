package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/twitchd/twitchd/internal/config"
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
	var send bool
	_, st, err := configure("spool", "spool [-send] [--config FILE] [--spool-dir DIR] --influx-url URL [--influx-bucket B]", args, stderr,
		func(fs *flag.FlagSet, st *config.Settings) {
			fs.String("config", "", "configuration file (TOML): its [influx] and [spool] say which spool; flags override it")
			bindInfluxFlags(fs, &st.Ingest.Influx)
			addSpoolFlags(fs, &st.Ingest)
			fs.BoolVar(&send, "send", false, "send the spooled points to InfluxDB now, and wait until they are written")
		})
	if err != nil {
		return err
	}
	cfg := st.Ingest
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
	sst := b.Stats()
	fmt.Fprintf(stdout, "%s: %d points, %d bytes in %d segments", b.Dir(), sst.Pending, sst.PendingBytes, sst.Segments)
	if !sst.Oldest.IsZero() {
		fmt.Fprintf(stdout, ", the oldest spooled %s", sst.Oldest.UTC().Format(time.RFC3339))
	}
	if sst.TornTails > 0 {
		fmt.Fprintf(stdout, "; %d torn tails (%d bytes) dropped", sst.TornTails, sst.TornBytes)
	}
	fmt.Fprintln(stdout)
	if !send || sst.Pending == 0 {
		return nil
	}
	sent, err := b.Send(ctx)
	fmt.Fprintf(stdout, "sent %d points: %d written, %d rejected, %d back in the spool; %d left\n",
		sent.Resent, sent.Written, sent.Rejected, sent.Back, sent.Left)
	return err
}
