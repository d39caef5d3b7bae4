package ingest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twitchd/twitchd/internal/sdnotify"
)

// notifyPoll is how often the run looks at its counts for the service
// manager: READY goes out within it of the first sample.
const notifyPoll = 100 * time.Millisecond

// notifier tells the service manager about a run: READY=1 once the first
// sample was read (the device answered and the sinks are open), WATCHDOG=1
// at half the watchdog period while samples flow or the device is known
// to be away (unplugged: the run is waiting for it, not hung), and a
// STATUS= line with each. When samples stop with the device still there
// it stops feeding the watchdog, so that the service manager restarts a
// hung collector.
type notifier struct {
	n      *sdnotify.Notifier
	m      *meter
	what   string      // "reading /dev/ttyUSB0" or "replaying"
	away   func() bool // the device is known to be away; nil for files
	health func() error
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startNotify starts telling n about the run; stop ends it and sends
// STOPPING=1. Without a notifier it does nothing.
func startNotify(n *sdnotify.Notifier, m *meter, what string, away func() bool, health func() error) *notifier {
	if n == nil {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	nt := &notifier{n: n, m: m, what: what, away: away, health: health, cancel: cancel}
	nt.wg.Add(1)
	go func() {
		defer nt.wg.Done()
		nt.run(ctx)
	}()
	return nt
}

func (nt *notifier) run(ctx context.Context) {
	tick := time.NewTicker(notifyPoll)
	defer tick.Stop()
	wd := nt.n.WatchdogInterval()
	ready, stalled := false, false
	var lastPet time.Time
	petSamples := int64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		samples := nt.m.samples.Load()
		if !ready && samples > 0 {
			ready = true
			_ = nt.n.Send(sdnotify.Ready, sdnotify.Status(nt.status(samples)))
		}
		if wd <= 0 || now.Sub(lastPet) < wd {
			continue
		}
		switch {
		case nt.away != nil && nt.away():
			_ = nt.n.Send(sdnotify.Watchdog, sdnotify.Status(nt.what+": device away, reconnecting"))
			lastPet, stalled = now, false
		case !ready:
			// Until the first sample the start timeout watches the run.
			_ = nt.n.Send(sdnotify.Watchdog, sdnotify.Status(nt.what+": waiting for the first sample"))
			lastPet = now
		case samples > petSamples:
			_ = nt.n.Send(sdnotify.Watchdog, sdnotify.Status(nt.status(samples)))
			lastPet, petSamples, stalled = now, samples, false
		case !stalled:
			stalled = true
			since := now.Sub(time.Unix(0, nt.m.lastRead.Load())).Round(100 * time.Millisecond)
			_ = nt.n.Send(sdnotify.Status(fmt.Sprintf("%s: no sample for %v with the device present: not feeding the watchdog", nt.what, since)))
		}
	}
}

// status is the STATUS= line while collecting.
func (nt *notifier) status(samples int64) string {
	s := fmt.Sprintf("%s: %d samples", nt.what, samples)
	if nt.health != nil {
		if err := nt.health(); err != nil {
			s += "; " + err.Error()
		}
	}
	return s
}

// stop ends the notifications with STOPPING=1.
func (nt *notifier) stop() {
	if nt == nil {
		return
	}
	nt.cancel()
	nt.wg.Wait()
	_ = nt.n.Send(sdnotify.Stopping, sdnotify.Status("stopping: flushing to InfluxDB and the spool"))
}
