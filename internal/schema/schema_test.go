package schema

import (
	"fmt"
	"testing"
)

func TestSessionShift(t *testing.T) {
	if SessionShift("") != 0 {
		t.Errorf("no session: shift %d, want 0", SessionShift(""))
	}
	seen := map[int64]int{}
	for i := 0; i < 2000; i++ {
		s := fmt.Sprintf("20261125T%06dZ-3fa2c1", i)
		sh := SessionShift(s)
		if sh < 0 || sh >= 1_000_000 {
			t.Fatalf("shift of %s: %d, want [0, 1e6)", s, sh)
		}
		if sh != SessionShift(s) {
			t.Fatalf("shift of %s not deterministic", s)
		}
		seen[sh]++
	}
	// 2000 sessions in a million values: a few coincidences at most.
	if len(seen) < 1990 {
		t.Errorf("%d distinct shifts for 2000 sessions", len(seen))
	}
	// FNV-1a of "a" is 0xaf63dc4c8601ec8c.
	if got, want := SessionShift("a"), int64(uint64(0xaf63dc4c8601ec8c)%1_000_000); got != want {
		t.Errorf("shift of %q: %d, want %d (FNV-1a)", "a", got, want)
	}
}

func TestAssessmentFieldReservesSession(t *testing.T) {
	for _, k := range []string{FieldSession, FieldStatusLevel, FieldReason, FieldAdvice, FieldNotice, "time"} {
		if !AssessmentField(k) {
			t.Errorf("%s is not reserved", k)
		}
	}
	if AssessmentField("twitches") {
		t.Errorf("a measure name is reserved")
	}
}
