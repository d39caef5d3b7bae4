package ingest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/progress"
	"github.com/twitchd/twitchd/pipeline"
)

// MaxHeldEvents bounds the events one file of a parallel replay holds
// while it waits for its turn (see parallel); a file that produces more
// waits for its turn there and then writes as it goes. Detector events
// and watermarks (one per batch) come to about one a second of
// recording, so this is days of recording, some tens of MB at most.
const MaxHeldEvents = 1 << 18

// maxHeld is MaxHeldEvents, smaller in tests.
var maxHeld = MaxHeldEvents

// parallel replays cfg.Files, cfg.Jobs at a time, with results
// identical to one at a time.
//
// What runs in parallel is what depends on nothing but the file: the
// decoder and the detectors. Everything a file shares with the others
// runs in input order, one file at a time, as with one job: the
// persistence rule (whose history read at a file's first event sees the
// points of every earlier file, flushed to InfluxDB, and of no later
// one), the events file, InfluxDB and its spool, the caller's sinks, the
// delivery counts and OnStream. A file's detector events wait in its gate
// (the first event stage) until every file before it has been flushed;
// the gate then passes them on in the order they came. So the rule, the
// events file and InfluxDB see exactly the sequence of one job, and the
// summaries come whole and in input order.
//
// Jobs files detect at once; a file whose detectors are done gives its
// place to the next one while it waits for its turn, so one long file
// does not hold the others up. Memory: at most 4×Jobs files are under
// way (started and not yet written), each holding at most MaxHeldEvents
// events.
func (out *outputs) parallel(ctx context.Context, cfg *Config, res *Result) {
	n := len(cfg.Files)
	turns := make([]chan struct{}, n+1)
	for i := range turns {
		turns[i] = make(chan struct{})
	}
	close(turns[0])
	// starts[i] is closed once file i has its place: places go in input
	// order, so after a stop the files replayed are the first ones.
	starts := make([]chan struct{}, n+1)
	for i := range starts {
		starts[i] = make(chan struct{})
	}
	close(starts[0])
	cpu := make(chan struct{}, cfg.Jobs)      // a place per file detecting
	window := make(chan struct{}, 4*cfg.Jobs) // a place per file under way
	bar := newRunBar(cfg.Files)
	stop := progress.Start(cfg.Progress, fmt.Sprintf("%d files", n), bar.position)
	defer stop()

	var wg sync.WaitGroup
	for i := range n {
		window <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := &gate{turn: turns[i], limit: maxHeld, cpu: cpu}
			<-starts[i]
			g.work()
			close(starts[i+1])
			var sr StreamResult
			started := ctx.Err() == nil // as one job: no file starts after a stop
			if started {
				sr = out.replayFile(ctx, cfg, cfg.Files[i], g, func(src *decode.File) func() {
					return bar.track(i, src.Position)
				})
			}
			g.acquire()
			g.rest()
			bar.finish(i)
			if started {
				res.Streams = append(res.Streams, sr)
				if cfg.OnStream != nil {
					cfg.OnStream(sr)
				}
			}
			close(turns[i+1])
			<-window
		}()
	}
	wg.Wait()
}

// gate is the first event stage of a file in a parallel replay: it holds
// the detectors' events until the file's turn comes (turn is closed),
// then passes them on, and every later one at once. It waits for the
// turn at the stream's end, or when it holds limit events; while it
// waits it gives up its place among the files detecting (cpu).
type gate struct {
	turn   <-chan struct{}
	limit  int
	cpu    chan struct{}
	onTurn func() // called once the turn has come, before any event is passed on

	open, busy bool
	held       []pipeline.Event
}

// work takes a place among the files detecting, waiting for one.
func (g *gate) work() {
	g.cpu <- struct{}{}
	g.busy = true
}

// rest gives the place up, if the gate holds one.
func (g *gate) rest() {
	if g.busy {
		g.busy = false
		<-g.cpu
	}
}

// acquire waits for the turn, once, its place among the files detecting
// given up meanwhile. It is safe on a nil gate (a replay of one job at a
// time: always the turn).
func (g *gate) acquire() {
	if g == nil || g.open {
		return
	}
	g.rest()
	<-g.turn
	g.open = true
	if g.onTurn != nil {
		g.onTurn()
	}
}

// Begin implements pipeline.EventStage.
func (g *gate) Begin(pipeline.Meta) error { return nil }

// Handle implements pipeline.EventStage: ev is held until the turn. A
// file that reaches the limit waits for its turn there, then takes a
// place among the files detecting again (the files that hold places
// give them up when they wait in turn, so one becomes free) and goes on
// writing as it detects.
func (g *gate) Handle(ev pipeline.Event, emit pipeline.Emit) {
	if g.open {
		emit(ev)
		return
	}
	g.held = append(g.held, ev)
	if len(g.held) >= g.limit {
		g.release(emit)
		g.work()
	}
}

// End implements pipeline.EventStage: it waits for the turn and passes
// on what it held.
func (g *gate) End(_ pipeline.Timestamp, emit pipeline.Emit) { g.release(emit) }

// release waits for the turn and emits the held events in order.
func (g *gate) release(emit pipeline.Emit) {
	g.acquire()
	for i, ev := range g.held {
		emit(ev)
		g.held[i] = nil
	}
	g.held = nil
}

// runBar is the progress of a whole parallel replay: the bytes of the
// files done and of those under way, out of the bytes of all files.
type runBar struct {
	sizes []int64
	total int64
	done  atomic.Int64

	mu      sync.Mutex
	running map[int]func() (int64, int64)
}

// newRunBar sizes files (a file that cannot be read counts 0).
func newRunBar(files []File) *runBar {
	b := &runBar{sizes: make([]int64, len(files)), running: map[int]func() (int64, int64){}}
	for i, f := range files {
		if st, err := os.Stat(f.Path); err == nil {
			b.sizes[i] = st.Size()
			b.total += st.Size()
		}
	}
	return b
}

// track counts file i's position until it is finished.
func (b *runBar) track(i int, pos func() (int64, int64)) func() {
	b.mu.Lock()
	b.running[i] = pos
	b.mu.Unlock()
	return func() {}
}

// finish counts file i as done, whether it was read or failed.
func (b *runBar) finish(i int) {
	b.mu.Lock()
	delete(b.running, i)
	b.mu.Unlock()
	b.done.Add(b.sizes[i])
}

// position implements the progress display's position.
func (b *runBar) position() (done, total int64) {
	done = b.done.Load()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, pos := range b.running {
		d, _ := pos()
		done += min(d, b.sizes[i])
	}
	return done, b.total
}
