package pipeline

import "testing"

func TestStatusLevelAndParse(t *testing.T) {
	for i, s := range Statuses {
		if s.Level() != i {
			t.Errorf("%s.Level() = %d, want %d", s, s.Level(), i)
		}
		if got, ok := ParseStatus(string(s)); !ok || got != s {
			t.Errorf("ParseStatus(%q) = %q, %v", s, got, ok)
		}
	}
	if _, ok := ParseStatus("persistant"); ok {
		t.Error("ParseStatus accepted a misspelt name")
	}
	for _, s := range Statuses {
		want := s == StatusPersistent || s == StatusPersistentWithSymptoms
		if s.Persistent() != want {
			t.Errorf("%s.Persistent() = %v", s, s.Persistent())
		}
	}
}
