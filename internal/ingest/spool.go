package ingest

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/internal/spool"
)

// Backlog is the spool a run left for one InfluxDB server and bucket,
// opened outside a run to look at it or send it now ("twitchd spool").
type Backlog struct {
	conn *influxconn.Conn
	sc   *influx.Config
	du   *durable
}

// OpenBacklog opens the spool of s's server and bucket under sp.Root.
// Only one process may hold a spool open: it fails while a run uses it.
func OpenBacklog(s influxconn.Settings, sp Spool, log *slog.Logger) (*Backlog, error) {
	if sp.Root == "" {
		return nil, fmt.Errorf("ingest: no spool directory")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := influxconn.Open(s)
	if err != nil {
		return nil, err
	}
	sc := conn.Sink(log)
	du, err := openSpool(s, sp, sc, log)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &Backlog{conn: conn, sc: sc, du: du}, nil
}

// Dir returns the spool's directory.
func (b *Backlog) Dir() string { return b.du.spool.Dir() }

// Stats returns the spool's counts.
func (b *Backlog) Stats() spool.Stats { return b.du.spool.Stats() }

// Sent reports a Send.
type Sent struct {
	// Resent points were read from the spool and handed to the sink;
	// Written and Rejected are what the server did with them, Back the
	// points that went back into the spool (the server failed again),
	// Left the points the spool still holds.
	Resent, Written, Rejected, Back, Left int64
}

// Send sends what the spool holds now and waits until it is written,
// for at most CloseTimeout after ctx ends.
func (b *Backlog) Send(ctx context.Context) (Sent, error) {
	sink, err := influx.New(b.sc)
	if err != nil {
		return Sent{}, fmt.Errorf("influxdb: %w", err)
	}
	derr := (&spool.Drainer{Spool: b.du.spool, Target: sink}).Once(ctx)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CloseTimeout)
	defer cancel()
	cerr := sink.Close(cctx)
	sst, st := sink.Stats(), b.du.spool.Stats()
	sent := Sent{Resent: st.Resent, Written: sst.Written, Rejected: sst.Rejected, Back: sst.Overflowed, Left: st.Pending}
	if derr != nil {
		return sent, derr
	}
	if cerr != nil {
		return sent, fmt.Errorf("influxdb: %w", cerr)
	}
	return sent, nil
}

// Close closes the spool and the connection.
func (b *Backlog) Close() error {
	b.conn.Close()
	return b.du.close()
}
