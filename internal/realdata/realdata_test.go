package realdata

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestCatalogue checks the entries themselves: options that parse,
// stretches in order from 0 without gaps, sensors on every analysable
// file, SameAs naming a catalogued file.
func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range All() {
		if seen[r.Path] {
			t.Errorf("%s catalogued twice", r.Path)
		}
		seen[r.Path] = true
		if _, err := r.Options("/x"); err != nil {
			t.Errorf("%s: %v", r.Path, err)
		}
		if r.NotAnalysable != "" {
			if len(r.Stretches) > 0 || r.Sensors != 0 {
				t.Errorf("%s: not analysable, yet has stretches or sensors", r.Path)
			}
			continue
		}
		if r.Sensors == 0 || r.Contents == "" || len(r.Stretches) == 0 {
			t.Errorf("%s: sensors %v, contents %q, %d stretches", r.Path, r.Sensors, r.Contents, len(r.Stretches))
			continue
		}
		var end = r.Stretches[0].From
		if end != 0 {
			t.Errorf("%s: first stretch starts at %v", r.Path, end)
		}
		for i, s := range r.Stretches {
			if s.From != end || s.To <= s.From {
				t.Errorf("%s: stretch %d is %v..%v after one ending at %v", r.Path, i, s.From, s.To, end)
			}
			end = s.To
		}
	}
	for _, r := range All() {
		if r.SameAs != "" && !seen[r.SameAs] {
			t.Errorf("%s: SameAs %s is not catalogued", r.Path, r.SameAs)
		}
	}
}

// TestFlags checks the replay flags as printed for people.
func TestFlags(t *testing.T) {
	want := map[string]string{
		"emg/myo_rest_labelled.txt":    "--rate 200 --columns emg_1,emg_2,emg_3,emg_4,emg_5,emg_6,emg_7,emg_8,label --map 'emg_*=emg:uV,scale=10'",
		"emg/biosppy_emg_rest.txt":     "--columns emg --map emg=emg:bitalino12",
		"accel/actigraph_neo_30hz.csv": "",
	}
	for path, w := range want {
		r, ok := Find(path)
		if !ok {
			t.Fatalf("%s not catalogued", path)
		}
		if got := r.Flags(); got != w {
			t.Errorf("%s: Flags = %q, want %q", path, got, w)
		}
	}
}

// TestStretchLookup checks ActiveAt and Rest on a labelled recording.
func TestStretchLookup(t *testing.T) {
	r, _ := Find("emg/myo_fist_labelled.txt")
	if r.ActiveAt(sec(2)) || !r.ActiveAt(sec(6)) || r.ActiveAt(sec(12)) || r.ActiveAt(sec(1000)) {
		t.Error("ActiveAt disagrees with the labels: rest 0-4.84 s, fist 4.84-9.88 s, rest to 14.93 s")
	}
	if n := len(r.Rest()); n != 6 { // the last stretch, from 55.23 s, is a fist
		t.Errorf("%d rest stretches, want 6", n)
	}
}

// TestEveryFileCatalogued walks the folder: every recording in it is
// catalogued and every catalogued file is there. PROVENANCE.md and the
// EDF reader's reference text files are not recordings.
func TestEveryFileCatalogued(t *testing.T) {
	root, err := Root()
	if errors.Is(err, ErrAbsent) {
		t.Skipf("skipped: %v (set %s to use another folder)", err, EnvDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	onDisk := map[string]bool{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "PROVENANCE.md" || strings.HasPrefix(rel, "edf/edfreader_") && strings.HasSuffix(rel, ".txt") {
			return nil
		}
		onDisk[rel] = true
		if _, ok := Find(rel); !ok {
			t.Errorf("%s is in %s but not catalogued", rel, root)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range All() {
		if !onDisk[r.Path] {
			t.Errorf("%s is catalogued but not in %s", r.Path, root)
		}
	}
}

// TestRootAbsent checks the error naming the folder looked for.
func TestRootAbsent(t *testing.T) {
	t.Setenv(EnvDir, filepath.Join(t.TempDir(), "nowhere"))
	_, err := Root()
	if !errors.Is(err, ErrAbsent) || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("err = %v", err)
	}
}
