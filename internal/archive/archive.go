// Package archive lists the recordings of an archive for a replay: it
// expands directories and glob patterns, reads lists of paths (for
// archives too large for a command line), and picks a deterministic
// share of them, so that the tasks of a job array (a Kubernetes Indexed
// Job, a Slurm array) split an archive among themselves with no
// coordinator.
package archive

import (
	"bufio"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// Expand returns the files that args name, in order: a regular file as
// it is; a directory as every file below it whose base name matches one
// of include (all when include is empty), in lexical order, leaving out
// names that begin with a dot; anything else that is a glob pattern
// (filepath.Match syntax) as the paths it matches, sorted, each expanded
// in turn, leaving out names that begin with a dot unless the pattern
// names them so. A path that does not exist is passed on as it is (the
// replay reports it as a file that failed); a pattern that matches
// nothing is an error.
func Expand(args []string, include []string) ([]string, error) {
	var out []string
	for _, a := range args {
		files, err := expand(a, include)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	return out, nil
}

func expand(arg string, include []string) ([]string, error) {
	st, err := os.Stat(arg)
	switch {
	case err == nil && st.IsDir():
		return walk(arg, include)
	case err == nil:
		return []string{arg}, nil
	case !hasMeta(arg):
		// Not there: passed on, so that the replay reports it as a file
		// that failed and goes on with the others.
		return []string{arg}, nil
	}
	matches, gerr := filepath.Glob(arg)
	if gerr != nil {
		return nil, fmt.Errorf("archive: pattern %q: %w", arg, gerr)
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("archive: %s: no such file, and the pattern matches nothing", arg)
	}
	var out []string
	for _, m := range matches {
		if hidden(arg, m) {
			continue
		}
		st, err := os.Stat(m)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, m)
			continue
		}
		files, err := walk(m, include)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	return out, nil
}

// hidden reports whether match, a match of pattern, has a name that
// begins with a dot where the pattern does not (a shell's * leaves such
// names out; filepath.Glob does not).
func hidden(pattern, match string) bool {
	pe := strings.Split(filepath.ToSlash(filepath.Clean(pattern)), "/")
	me := strings.Split(filepath.ToSlash(filepath.Clean(match)), "/")
	if len(pe) != len(me) {
		return false
	}
	for i := range me {
		if strings.HasPrefix(me[i], ".") && !strings.HasPrefix(pe[i], ".") && me[i] != "." && me[i] != ".." {
			return true
		}
	}
	return false
}

// hasMeta reports whether p holds a glob metacharacter.
func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[`) }

// walk lists the files below dir whose names match include.
func walk(dir string, include []string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		if ok, err := matchAny(include, d.Name()); err != nil || !ok {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	return out, nil
}

// matchAny reports whether name matches one of patterns (true for none).
func matchAny(patterns []string, name string) (bool, error) {
	if len(patterns) == 0 {
		return true, nil
	}
	for _, p := range patterns {
		ok, err := filepath.Match(p, name)
		if err != nil {
			return false, fmt.Errorf("archive: pattern %q: %w", p, err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// ReadList reads one path per line from r (name is for errors); blank
// lines are skipped, a trailing carriage return is dropped. Leading and
// trailing spaces are kept: they may belong to the name.
func ReadList(r io.Reader, name string) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("archive: %s: line %d: %w", name, len(out)+1, err)
	}
	return out, nil
}

// Shard is one of Count disjoint shares of an archive, numbered from 0.
//
// A file belongs to shard FNV-1a-64(key) mod Count, where key is the
// file's path relative to Root (slash-separated, cleaned), or with ByDir
// the directory of that path, so that the files of one directory (one
// person's, in an archive with a directory per person) land in one
// shard. The split depends only on the paths: every task of a job array
// computes the same one from the same list, a file keeps its shard when
// others are added, and the shares cover every file exactly once. They
// are balanced only on average (many files, or many directories).
type Shard struct {
	Index, Count int
	// Root is the directory paths are taken relative to (empty: the
	// working directory), so tasks that mount the archive at different
	// places agree when each gives its own Root.
	Root  string
	ByDir bool
}

// ParseShard parses "I/N" (0 <= I < N).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("want I/N such as 0/4, got %q", s)
	}
	if n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("want I/N with 0 <= I < N, got %q", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// String returns "I/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Of returns the shard that p belongs to.
func (s Shard) Of(p string) (int, error) {
	if s.Count < 1 {
		return 0, errors.New("archive: shard count must be at least 1")
	}
	k, err := s.key(p)
	if err != nil {
		return 0, err
	}
	h := fnv.New64a()
	_, _ = io.WriteString(h, k)
	return int(h.Sum64() % uint64(s.Count)), nil
}

// key is what p's shard is computed from.
func (s Shard) key(p string) (string, error) {
	root := s.Root
	if root == "" {
		root = "."
	}
	ar, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	ap, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(ar, ap)
	if err != nil {
		rel = ap
	}
	k := path.Clean(filepath.ToSlash(rel))
	if s.ByDir {
		k = path.Dir(k)
	}
	return k, nil
}

// Select returns the paths of shard s, in their order.
func (s Shard) Select(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		i, err := s.Of(p)
		if err != nil {
			return nil, err
		}
		if i == s.Index {
			out = append(out, p)
		}
	}
	return out, nil
}
