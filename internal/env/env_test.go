package env

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseTags(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{"", map[string]string{}, ""},
		{"tagk1: 22, tagk2: tagv2", map[string]string{"tagk1": "22", "tagk2": "tagv2"}, ""},
		{"tagk1:22,tagk2:tagv2", map[string]string{"tagk1": "22", "tagk2": "tagv2"}, ""},
		{", , , , tagk1: 22, tagk2: tagv2, , ,  , ,", map[string]string{"tagk1": "22", "tagk2": "tagv2"}, ""},
		{"a: 1, a: 2", map[string]string{"a": "2"}, ""},
		{"tag", nil, `X: cannot parse tag "tag"`},
		{"tagk1: tagv11: tagv12", nil, `X: cannot parse tag "tagk1: tagv11: tagv12"`},
		{`"tagk1": tagv1`, nil, `X: cannot parse tag "\"tagk1\": tagv1"`},
		{":a", nil, `X: cannot parse tag ":a"`},
		{"a:", nil, `X: cannot parse tag "a:"`},
		{"{InvalidTags", nil, `X: cannot parse tag "{InvalidTags"`},
	}
	for _, tt := range tests {
		got, err := ParseTags("X", tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("ParseTags(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseTags(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// Cases ported from apptuit-py's test_strtobool.
func TestParseBool(t *testing.T) {
	for _, v := range []string{"y", "yes", "t", "true", "on", "1", "True", " TRUE "} {
		if b, err := ParseBool("X", v); err != nil || !b {
			t.Errorf("ParseBool(%q) = %v, %v; want true", v, b, err)
		}
	}
	for _, v := range []string{"n", "no", "f", "false", "off", "0", "False"} {
		if b, err := ParseBool("X", v); err != nil || b {
			t.Errorf("ParseBool(%q) = %v, %v; want false", v, b, err)
		}
	}
	for _, v := range []string{"truee", "ffalse", "nno", "01", ""} {
		if _, err := ParseBool("X", v); err == nil || !strings.Contains(err.Error(), `invalid truth value "`+v+`"`) {
			t.Errorf("ParseBool(%q) err = %v", v, err)
		}
	}
}

func FuzzParseTags(f *testing.F) {
	for _, s := range []string{"tagk1: 22, tagk2: tagv2", ",a:b,", "tag", "a:b:c", "{InvalidTags", ":a", "  k : v  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tags, err := ParseTags("X", s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "X: cannot parse tag ") {
				t.Fatalf("error %q does not name the variable and the item", err)
			}
			return
		}
		for k, v := range tags {
			if k == "" || v == "" || k != strings.TrimSpace(k) || v != strings.TrimSpace(v) ||
				strings.ContainsAny(k, ",:") || strings.ContainsAny(v, ",:") {
				t.Fatalf("ParseTags(%q) gave bad tag %q=%q", s, k, v)
			}
		}
	})
}

func TestLookupTags(t *testing.T) {
	tests := []struct {
		tags, py string
		want     map[string]string
		wantErr  string
	}{
		{"", "", nil, ""},
		{"a: 1", "b: 2", map[string]string{"a": "1"}, ""},
		{"", "b: 2", map[string]string{"b": "2"}, ""},
		{"bad", "b: 2", nil, `APPTUIT_TAGS: cannot parse tag "bad"`},
		{"", "bad", nil, `APPTUIT_PY_TAGS: cannot parse tag "bad"`},
	}
	for _, tt := range tests {
		t.Setenv(TagsVar, tt.tags)
		t.Setenv(TagsPyVar, tt.py)
		got, err := LookupTags()
		if tt.wantErr != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) || got != nil {
				t.Errorf("%q, %q: %v, %v; want error %q", tt.tags, tt.py, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q, %q: %v, %v; want %v", tt.tags, tt.py, got, err, tt.want)
		}
	}
}
