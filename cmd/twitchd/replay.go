package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/archive"
	"github.com/twitchd/twitchd/internal/config"
	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/all" // register every decoder
)

func init() {
	register(&command{
		name:    "replay",
		summary: "replay recorded session files (or directories, patterns, lists of them) through the detectors",
		run:     runReplay,
	})
}

// mapFlags collects repeated --map COLUMN=KIND:UNIT.
type mapFlags map[string]decode.Mapping

// String implements flag.Value.
func (m mapFlags) String() string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// Set implements flag.Value: it adds one COLUMN=KIND:UNIT (see
// decode.ParseMapping for scale, offset and transfer functions).
func (m mapFlags) Set(s string) error {
	col, spec, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(col) == "" {
		return fmt.Errorf("want COLUMN=KIND:UNIT, got %q", s)
	}
	mp, err := decode.ParseMapping(spec)
	if err != nil {
		return err
	}
	m[strings.ToLower(strings.TrimSpace(col))] = mp
	return nil
}

// columnFlag collects --columns NAME,NAME,...
type columnFlag []string

// String implements flag.Value.
func (c *columnFlag) String() string { return strings.Join(*c, ",") }

// Set implements flag.Value: a comma-separated list of names, each
// non-empty.
func (c *columnFlag) Set(s string) error {
	names := strings.Split(s, ",")
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
		if names[i] == "" {
			return fmt.Errorf("want NAME,NAME,... with no empty name, got %q", s)
		}
	}
	*c = names
	return nil
}

// bindReplay binds replay's flags into st.
func bindReplay(fs *flag.FlagSet, st *config.Settings) {
	addIngestFlags(fs, st)
	file := &st.File
	if file.Options.Map == nil {
		file.Options.Map = map[string]decode.Mapping{}
	}
	fs.StringVar(&file.Format, "format", file.Format, "input format (default: detected from the content): "+strings.Join(decode.Formats(), ", "))
	fs.Float64Var(&file.Options.Rate, "rate", file.Options.Rate, "sample rate in Hz, for files without a time column (default: a '# Sampling Rate (Hz):= N' comment, if any)")
	fs.Var((*columnFlag)(&file.Options.Columns), "columns", "NAME,NAME,... names for the columns of a text file without a header row, e.g. emg or time,acc_x,acc_y,acc_z (its first line is data)")
	fs.Var((*timeFlag)(&file.Options.Start), "start", "recording start (RFC 3339), for files with relative or no times (default: the file's modification time)")
	fs.BoolVar(&file.Options.Strict, "strict", file.Options.Strict, "stop at the first malformed line instead of skipping it")
	fs.Float64Var(&st.Ingest.Speed, "speed", st.Ingest.Speed, "pace: 0 as fast as possible, 1 real time, N times real time")
	fs.IntVar(&st.Ingest.Jobs, "j", st.Ingest.Jobs, "files replayed at once; 0: one per CPU, or one with --speed (the results are those of one at a time)")
	fs.Var((*shardFlag)(&st.Shard), "shard", "I/N: replay only share I (0 <= I < N) of the files, e.g. the task index of a job array (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID)")
	fs.StringVar(&st.Shard.Root, "shard-root", st.Shard.Root, "directory the paths are taken relative to when sharding (default: the working directory)")
	fs.BoolVar(&st.Shard.ByDir, "shard-by-dir", st.Shard.ByDir, "shard by directory, so that the files of one directory (one person's) land in one shard")
	fs.BoolVar(&st.SubjectFromDir, "subject-from-dir", st.SubjectFromDir, "each file's subject is the name of its directory (an archive with a directory per person), instead of --subject")
	fs.StringVar(&st.FilesFrom, "files-from", st.FilesFrom, "read paths to replay from this file, one per line ('-': standard input), besides the arguments")
	fs.Var((*columnFlag)(&st.Include), "include", "PATTERN,...: in directories, replay only files whose names match one of these (e.g. *.edf,*.csv; default: all)")
	fs.Var(mapFlags(file.Options.Map), "map", "COLUMN=KIND:UNIT override, repeatable; kinds acc, emg, other; units g, mg, m/s2, V, mV, uV;\nraw counts: KIND:UNIT,scale=S,offset=O (raw·S+O in UNIT) or a transfer function emg:pluxN, emg:bitalinoN (N bits);\nCOLUMN may end in * to map every column it prefixes (emg_*)")
}

// shardFlag is --shard I/N.
type shardFlag archive.Shard

// String implements flag.Value.
func (s *shardFlag) String() string {
	if s == nil || s.Count == 0 {
		return ""
	}
	return archive.Shard(*s).String()
}

// Set implements flag.Value; it keeps the root and ByDir.
func (s *shardFlag) Set(v string) error {
	p, err := archive.ParseShard(v)
	if err != nil {
		return err
	}
	s.Index, s.Count = p.Index, p.Count
	return nil
}

// timeFlag is a time in RFC 3339.
type timeFlag time.Time

// String implements flag.Value.
func (t *timeFlag) String() string {
	if t == nil || time.Time(*t).IsZero() {
		return ""
	}
	return time.Time(*t).Format(time.RFC3339Nano)
}

// Set implements flag.Value.
func (t *timeFlag) Set(s string) error {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*t = timeFlag(v)
	return nil
}

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, st, err := configure("replay", "replay [flags] FILE|DIR|PATTERN...", args, stderr, bindReplay)
	if err != nil {
		return err
	}
	cfg := st.Ingest
	if fs.NArg() == 0 && st.FilesFrom == "" {
		fmt.Fprintln(stderr, "twitchd replay: no file given")
		fs.Usage()
		return errUsage
	}
	if cfg.Speed < 0 || cfg.Jobs < 0 {
		fmt.Fprintln(stderr, "twitchd replay: --speed and -j must be 0 or more")
		return errUsage
	}
	if cfg.Jobs == 0 {
		cfg.Jobs = runtime.NumCPU()
		if cfg.Speed > 0 {
			cfg.Jobs = 1 // a paced replay plays the files one after another
		}
	}
	paths, err := replayPaths(fs.Args(), st)
	if err != nil {
		fmt.Fprintf(stderr, "twitchd replay: %v\n", err)
		return errUsage
	}
	if len(paths) == 0 {
		// A job array may have more tasks than files.
		fmt.Fprintf(stderr, "twitchd replay: no file to replay\n")
		return nil
	}
	for _, path := range paths {
		f := st.File
		f.Path = path
		if st.SubjectFromDir {
			f.Subject = filepath.Base(filepath.Dir(path))
		}
		cfg.Files = append(cfg.Files, f)
	}
	cfg.Stdout, cfg.Log = stdout, logger(stderr, st, slog.LevelWarn)
	cfg.Progress = stderr
	res, err := runIngest(ctx, "replay", cfg, stderr)
	if err != nil {
		return err
	}
	if err := res.LostError(); err != nil {
		return err
	}
	if n := res.Failed(); n > 0 {
		return fmt.Errorf("%d of %d files failed", n, len(paths))
	}
	return nil
}

// replayPaths returns the files to replay: the arguments, then the lines
// of --files-from, directories and patterns expanded, then the shard's
// share of them, when --shard is given.
func replayPaths(args []string, st *config.Settings) ([]string, error) {
	names := append([]string(nil), args...)
	if st.FilesFrom != "" {
		r := io.Reader(os.Stdin)
		if st.FilesFrom != "-" {
			f, err := os.Open(st.FilesFrom)
			if err != nil {
				return nil, fmt.Errorf("--files-from: %w", err)
			}
			defer f.Close()
			r = f
		}
		list, err := archive.ReadList(r, st.FilesFrom)
		if err != nil {
			return nil, err
		}
		names = append(names, list...)
	}
	paths, err := archive.Expand(names, st.Include)
	if err != nil || st.Shard.Count == 0 {
		return paths, err
	}
	return st.Shard.Select(paths)
}
