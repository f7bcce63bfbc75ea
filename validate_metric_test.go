package apptuit

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestValidateMetric(t *testing.T) {
	many := make(map[string]string)
	for i := 0; i < MaxTags+1; i++ {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	global, err := New(WithToken("t"), WithGlobalTags(map[string]string{"env": "prod"}), WithSanitizer(SanitizeApptuit))
	if err != nil {
		t.Fatal(err)
	}
	plain := &Client{}
	tests := []struct {
		name   string
		c      *Client
		metric string
		tags   map[string]string
		rule   string // "" = valid
	}{
		{"valid", plain, "cpu.user", map[string]string{"host": "a"}, ""},
		{"no tags", plain, "cpu.user", nil, "no tags: a point needs at least one tag (give it tags or set global tags)"},
		{"global tags count", global, "cpu.user", nil, ""},
		{"bad name", plain, "cpu user", map[string]string{"host": "a"}, `metric name "cpu user" has a character outside the allowed set (Unicode letters and digits, '.', '-', '_', '/')`},
		{"sanitized name", global, "cpu user", nil, ""},
		{"empty name", plain, "", map[string]string{"host": "a"}, "metric name is empty"},
		{"bad key", plain, "m", map[string]string{"a b": "x"}, `tag key "a b" has a character outside the allowed set (Unicode letters and digits, '.', '-', '_', '/')`},
		{"empty value", plain, "m", map[string]string{"host": ""}, `tag "host" has an empty value`},
		{"too many", plain, "m", many, "26 tags after merging global tags, at most 25 are allowed"},
		{"too many with global", global, "m", map[string]string{"k00": "v", "k01": "v", "k02": "v", "k03": "v", "k04": "v", "k05": "v", "k06": "v", "k07": "v", "k08": "v", "k09": "v", "k10": "v", "k11": "v", "k12": "v", "k13": "v", "k14": "v", "k15": "v", "k16": "v", "k17": "v", "k18": "v", "k19": "v", "k20": "v", "k21": "v", "k22": "v", "k23": "v", "k24": "v"}, "26 tags after merging global tags, at most 25 are allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.ValidateMetric(tt.metric, tt.tags)
			if tt.c == plain {
				if err2 := ValidateMetric(tt.metric, tt.tags); fmt.Sprint(err2) != fmt.Sprint(err) {
					t.Errorf("package ValidateMetric = %v, method = %v", err2, err)
				}
			}
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("ValidateMetric = %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("ValidateMetric = %v (%T), want *ValidationError", err, err)
			}
			if ve.Rule != tt.rule || ve.Index != -1 || ve.Point != -1 || ve.Metric != tt.metric {
				t.Errorf("got %+v, want rule %q, index -1, point -1, metric %q", *ve, tt.rule, tt.metric)
			}
			if want := fmt.Sprintf("apptuit: metric %q: %s", tt.metric, tt.rule); err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestValidateMetricAllocs(t *testing.T) {
	c := &Client{}
	tags := map[string]string{"host": "a", "core": "0"}
	if n := testing.AllocsPerRun(100, func() { _ = c.ValidateMetric("cpu.user", tags) }); n != 0 {
		t.Errorf("ValidateMetric of a valid metric: %v allocations, want 0", n)
	}
}

func TestErrNoToken(t *testing.T) {
	t.Setenv(EnvToken, "")
	t.Setenv(EnvTokenPy, "")
	_, err := New()
	if !errors.Is(err, ErrNoToken) {
		t.Fatalf("New() = %v, want an error matching ErrNoToken", err)
	}
	if want := "apptuit: no API token: use WithToken or set APPTUIT_API_TOKEN (or APPTUIT_PY_TOKEN)"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	if strings.Count(err.Error(), "apptuit:") != 1 {
		t.Errorf("prefix repeated: %q", err)
	}
}
