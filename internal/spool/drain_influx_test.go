package spool_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/internal/spool"
)

// TestDrainIntoInfluxDB spools 100 000 points as a sink would during an
// outage (batches of 5000 handed over when their retries ran out), then
// drains them through a real sink into a real influxd, checks that the
// database holds every one of them and the spool is empty, and logs how
// long the catch-up took.
func TestDrainIntoInfluxDB(t *testing.T) {
	const batches, per = 20, 5000
	srv := influxtest.Start(t)
	sp, err := spool.Open(spool.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixNano()
	var buf bytes.Buffer
	t0 := time.Now()
	for b := 0; b < batches; b++ {
		buf.Reset()
		for i := 0; i < per; i++ {
			k := b*per + i
			fmt.Fprintf(&buf, "activity,subject=drain,session=s1,sensor=emg,channel=exg%d rms_mv=%d.25,duration_s=5 %d\n", k%8, k, base+int64(k)*int64(time.Millisecond))
		}
		if err := sp.Append(buf.Bytes(), per); err != nil {
			t.Fatal(err)
		}
	}
	spoolTime := time.Since(t0)
	sink, err := influx.New(influx.NewConfig(srv.URL, srv.Bucket).SetOverflow(influx.OverflowFunc(
		func(_ influx.Reason, lines []byte, n int) error { return sp.Append(lines, n) })))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t1 := time.Now()
	if err := (&spool.Drainer{Spool: sp, Target: sink}).Once(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(ctx); err != nil {
		t.Fatal(err)
	}
	drainTime := time.Since(t1)
	st, sst := sp.Stats(), sink.Stats()
	if !sp.Empty() || st.Resent != batches*per || sst.Written != batches*per || sst.Overflowed != 0 {
		t.Fatalf("spool %+v\nsink %v", st, sst)
	}
	rows := srv.Query(t, fmt.Sprintf(`from(bucket: %q) |> range(start: 0) |> filter(fn: (r) => r.subject == "drain" and r._field == "rms_mv") |> group() |> count()`, srv.Bucket))
	if len(rows) != 1 || rows[0]["_value"] != int64(batches*per) {
		t.Fatalf("InfluxDB counts %v, want %d", rows, batches*per)
	}
	t.Logf("spooled %d points (%d bytes) in %v (%.0f points/s, fsync per batch); drained into influxd in %v (%.0f points/s)",
		batches*per, st.Bytes, spoolTime.Round(time.Millisecond), float64(batches*per)/spoolTime.Seconds(),
		drainTime.Round(time.Millisecond), float64(batches*per)/drainTime.Seconds())
}

// TestPreviousFormatIsSent sends the spool the previous release left
// (testdata/spool-v1, format version 1) through a real sink into a real
// influxd, as the next start after an upgrade does: InfluxDB then holds
// exactly its 6 points, field by field.
func TestPreviousFormatIsSent(t *testing.T) {
	srv := influxtest.Start(t)
	dir := filepath.Join(t.TempDir(), "spool")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "spool-v1"))); err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(spool.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	sink, err := influx.New(influx.NewConfig(srv.URL, srv.Bucket))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := (&spool.Drainer{Spool: sp, Target: sink}).Once(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := sink.Stats(); st.Written != 6 || !sp.Empty() {
		t.Fatalf("sink %v, spool empty %v", st, sp.Empty())
	}
	var got []string
	for _, r := range srv.Query(t, fmt.Sprintf(`from(bucket: %q) |> range(start: 0) |> filter(fn: (r) => r.subject == "fixture")`, srv.Bucket)) {
		got = append(got, fmt.Sprintf("%s %d %s=%v", r["_measurement"], r["_time"].(time.Time).UnixNano(), r["_field"], r["_value"]))
	}
	sort.Strings(got)
	want := []string{
		"activity 1764065100000000000 duration_s=5", "activity 1764065100000000000 duration_s=5",
		"activity 1764065100000000000 enmo_mg=3.5", "activity 1764065100000000000 intensity_level=0",
		"activity 1764065100000000000 noise=0.0041", "activity 1764065100000000000 noise=0.8",
		"activity 1764065100000000000 rms_mv=0.0123",
		"bout 1764064800000000000 duration_s=95.5", "bout 1764064800000000000 intensity_level=3",
		"bout 1764064800000000000 mean_enmo_mg=512.5", "bout 1764064800000000000 peak_acc_g=2.75",
		"bout 1764064800000000000 peak_enmo_mg=903",
		"rest 1764064900000000000 after_exercise=true", "rest 1764064900000000000 duration_s=300",
		"twitch 1764065100123000000 confirmed=false", "twitch 1764065100123000000 duration_s=0.012",
		"twitch 1764065100123000000 peak=0.081", "twitch 1764065100123000000 potentials=2",
		"twitch 1764065100123000000 snr=9.5",
		"twitch 1764065142500000000 confirmed=true", "twitch 1764065142500000000 duration_s=0.009",
		"twitch 1764065142500000000 peak=0.064", "twitch 1764065142500000000 potentials=1",
		"twitch 1764065142500000000 snr=7.25",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("InfluxDB holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
