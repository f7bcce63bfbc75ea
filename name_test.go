package apptuit

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// Cases ported from apptuit-py's test_contains_valid_chars, with the
// offset and character CheckName reports, and CleanName's result.
func TestCheckName(t *testing.T) {
	tests := []struct {
		in     string
		offset int  // -1: valid; -2: empty
		char   rune // at offset
		clean  string
	}{
		{"abc.abc-abc/abc_abc", -1, 0, "abc.abc-abc/abc_abc"},
		{"日本語.abc", -1, 0, "日本語.abc"},
		{"abc.日本語", -1, 0, "abc.日本語"},
		{"Ⅻ½", -1, 0, "Ⅻ½"}, // Unicode numbers, as Python's \w
		{"a__b", -1, 0, "a__b"},
		{"metric_name tag-key.str", 11, ' ', "metric_name_tag-key.str"},
		{"&*)", 0, '&', "___"},
		{" ", 0, ' ', "_"},
		{"a\u0301", 1, '\u0301', "a_"}, // combining marks are not \w
		{"a\xff", 1, utf8.RuneError, "a_"},
		{"日\xffb", 3, utf8.RuneError, "日_b"},
		{"a\uFFFDb", 1, utf8.RuneError, "a_b"},
		{"a:b", 1, ':', "a_b"},
		{"job:requests:rate5m", 3, ':', "job_requests_rate5m"},
		{"日本 語", 6, ' ', "日本_語"},
		{"a{b", 1, '{', "a_b"},
		{"", -2, 0, ""},
	}
	for _, tt := range tests {
		for _, err := range []error{CheckName(tt.in), CheckName([]byte(tt.in))} {
			var ne *NameError
			switch {
			case tt.offset == -1 && err != nil:
				t.Errorf("CheckName(%q) = %v, want nil", tt.in, err)
			case tt.offset == -1:
			case !errors.As(err, &ne):
				t.Errorf("CheckName(%q) = %v, want a *NameError", tt.in, err)
			case tt.offset == -2 && (ne.Offset != -1 || ne.Char != 0 || err.Error() != "name is empty"):
				t.Errorf("CheckName(%q) = %+v (%v), want offset -1", tt.in, *ne, err)
			case tt.offset >= 0 && (ne.Offset != tt.offset || ne.Char != tt.char || ne.Name != tt.in):
				t.Errorf("CheckName(%q) = %+v, want offset %d, char %q", tt.in, *ne, tt.offset, tt.char)
			}
		}
		if got := CleanName(tt.in); got != tt.clean {
			t.Errorf("CleanName(%q) = %q, want %q", tt.in, got, tt.clean)
		}
		if c := CleanName(tt.in); c != "" && CheckName(c) != nil {
			t.Errorf("CleanName(%q) = %q, which CheckName refuses", tt.in, c)
		}
	}
	want := `name "a b" has a character outside the allowed set (Unicode letters and digits, '.', '-', '_', '/'): ' ' at byte 1`
	if err := CheckName("a b"); err == nil || err.Error() != want {
		t.Errorf("CheckName(\"a b\") = %v, want %s", err, want)
	}
}

func TestCheckNameDoesNotAllocate(t *testing.T) {
	s, b := "proc.cpu.日本語.percent", []byte("proc.cpu.日本語.percent")
	n := testing.AllocsPerRun(100, func() {
		if CheckName(s) != nil || CheckName(b) != nil || CleanName(s) != s {
			t.Fatal("refused")
		}
	})
	if n != 0 {
		t.Fatalf("allocs = %v, want 0", n)
	}
}

// FuzzCleanName: CleanName keeps the rune count, its result is valid
// (unless empty) and a valid name is kept.
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"", "a b", "日本\xff", "job:x", "a__b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := CleanName(s)
		if utf8.RuneCountInString(c) != utf8.RuneCountInString(s) {
			t.Fatalf("CleanName(%q) = %q: rune count changed", s, c)
		}
		if s != "" && CheckName(c) != nil {
			t.Fatalf("CleanName(%q) = %q: %v", s, c, CheckName(c))
		}
		if CheckName(s) == nil && c != s {
			t.Fatalf("CleanName(%q) = %q, want it unchanged", s, c)
		}
	})
}
