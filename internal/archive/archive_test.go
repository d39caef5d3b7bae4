package archive

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestShardsPartition checks that the shards of an archive are disjoint,
// cover every file, do not depend on where the archive is mounted (Root)
// and keep the files of one directory together with ByDir.
func TestShardsPartition(t *testing.T) {
	var paths []string
	for s := range 40 {
		for d := range 25 {
			paths = append(paths, fmt.Sprintf("archive/subject-%02d/day-%03d.edf", s, d))
		}
	}
	for _, byDir := range []bool{false, true} {
		for _, n := range []int{1, 2, 3, 7, 16} {
			t.Run(fmt.Sprintf("n=%d,bydir=%v", n, byDir), func(t *testing.T) {
				seen := map[string]int{}
				dirShard := map[string]int{}
				sizes := make([]int, n)
				for i := range n {
					sel, err := Shard{Index: i, Count: n, ByDir: byDir}.Select(paths)
					if err != nil {
						t.Fatal(err)
					}
					sizes[i] = len(sel)
					// The same archive mounted elsewhere, named from there.
					moved := make([]string, len(paths))
					for j, p := range paths {
						moved[j] = filepath.Join("/mnt/data", p)
					}
					sel2, err := Shard{Index: i, Count: n, ByDir: byDir, Root: "/mnt/data/archive/.."}.Select(moved)
					if err != nil {
						t.Fatal(err)
					}
					if len(sel2) != len(sel) {
						t.Errorf("shard %d: %d files here, %d from another mount point", i, len(sel), len(sel2))
					}
					for _, p := range sel {
						if j, dup := seen[p]; dup {
							t.Errorf("%s in shards %d and %d", p, j, i)
						}
						seen[p] = i
						dir := filepath.Dir(p)
						if j, ok := dirShard[dir]; byDir && ok && j != i {
							t.Errorf("directory %s split between shards %d and %d", dir, j, i)
						}
						dirShard[dir] = i
					}
				}
				if len(seen) != len(paths) {
					t.Errorf("shards cover %d of %d files", len(seen), len(paths))
				}
				if !byDir && n > 1 {
					for i, s := range sizes {
						if want := len(paths) / n; s < want/2 || s > want*2 {
							t.Errorf("shard %d holds %d files, expected about %d: %v", i, s, want, sizes)
						}
					}
				}
			})
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Shard
		err  bool
	}{
		{"0/1", Shard{0, 1, "", false}, false},
		{"3/8", Shard{3, 8, "", false}, false},
		{"8/8", Shard{}, true},
		{"-1/8", Shard{}, true},
		{"1/0", Shard{}, true},
		{"1", Shard{}, true},
		{"a/b", Shard{}, true},
	} {
		got, err := ParseShard(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseShard(%q) = %+v, %v; want %+v, error %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"b/2.edf", "b/1.csv", "a/x.edf", "a/.hidden.edf", ".git/y.edf", "top.edf"} {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	j := func(ps ...string) []string {
		for i, p := range ps {
			ps[i] = filepath.Join(dir, p)
		}
		return ps
	}
	for _, c := range []struct {
		name    string
		args    []string
		include []string
		want    []string
		err     string
	}{
		{"directory", []string{dir}, nil, j("a/x.edf", "b/1.csv", "b/2.edf", "top.edf"), ""},
		{"include", []string{dir}, []string{"*.edf"}, j("a/x.edf", "b/2.edf", "top.edf"), ""},
		{"glob", []string{filepath.Join(dir, "*", "*.edf")}, nil, j("a/x.edf", "b/2.edf"), ""},
		{"glob of directories", []string{filepath.Join(dir, "[ab]")}, nil, j("a/x.edf", "b/1.csv", "b/2.edf"), ""},
		{"order kept", j("top.edf", "a"), nil, j("top.edf", "a/x.edf"), ""},
		{"missing: passed on", j("nope.edf"), nil, j("nope.edf"), ""},
		{"pattern matching nothing", j("*.nope"), nil, nil, "matches nothing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Expand(c.args, c.include)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestReadList(t *testing.T) {
	got, err := ReadList(strings.NewReader("a.edf\r\n\n  \nsub dir/b.csv\n c.edf \n"), "list")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.edf", "sub dir/b.csv", " c.edf "}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
