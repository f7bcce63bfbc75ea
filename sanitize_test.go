package apptuit

import "testing"

// Cases ported from apptuit-py's tests/test_utils.py, plus the issue's.
func TestSanitize(t *testing.T) {
	tests := []struct {
		in, apptuit, prometheus string
	}{
		{"metric_name tag-key.str", "metric_name_tag-key.str", "metric_name_tag_key_str"},
		{"&*)", "_", "_"},
		{"abc.abc-abc/abc_abc", "abc.abc-abc/abc_abc", "abc_abc_abc_abc_abc"},
		{" ", "_", "_"},
		{"日本語.abc", "日本語.abc", "_abc"},
		{"abc.日本語", "abc.日本語", "abc_"},
		{"", "", ""},
		{"a__b", "a_b", "a_b"},
		{"a..b", "a..b", "a_b"},
		{"1abc", "1abc", "_1abc"},
		{"1_abc", "1_abc", "_1_abc"},
		{"9", "9", "_9"},
		{"_a", "_a", "_a"},
		{"a b  c", "a_b_c", "a_b_c"},
		{"ok_name", "ok_name", "ok_name"},
		{"\xff", "_", "_"},
	}
	for _, tt := range tests {
		if got := SanitizeApptuit(tt.in); got != tt.apptuit {
			t.Errorf("SanitizeApptuit(%q) = %q, want %q", tt.in, got, tt.apptuit)
		}
		if got := SanitizePrometheus(tt.in); got != tt.prometheus {
			t.Errorf("SanitizePrometheus(%q) = %q, want %q", tt.in, got, tt.prometheus)
		}
	}
}

func TestSanitizeCleanDoesNotAllocate(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		_ = SanitizeApptuit("proc.cpu.percent")
		_ = SanitizePrometheus("proc_cpu_percent")
	})
	if n != 0 {
		t.Fatalf("allocs = %v, want 0", n)
	}
}
