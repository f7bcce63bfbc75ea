package apptuit

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func clearEnv(t *testing.T) {
	for _, k := range []string{EnvToken, EnvTokenPy, EnvTags, EnvTagsPy} {
		t.Setenv(k, "")
	}
}

func TestNewToken(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		opts    []Option
		want    string
		wantErr string
	}{
		{"option", map[string]string{EnvToken: "env"}, []Option{WithToken("opt")}, "opt", ""},
		{"APPTUIT_API_TOKEN", map[string]string{EnvToken: "env", EnvTokenPy: "py"}, nil, "env", ""},
		{"APPTUIT_PY_TOKEN", map[string]string{EnvTokenPy: "py"}, nil, "py", ""},
		{"none", nil, nil, "", "no API token: use WithToken or set APPTUIT_API_TOKEN (or APPTUIT_PY_TOKEN)"},
		{"empty option", nil, []Option{WithToken("")}, "", "WithToken: token is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := New(tt.opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.auth != "Bearer "+tt.want {
				t.Errorf("auth = %q, want Bearer %s", c.auth, tt.want)
			}
			for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, c, c)} {
				if strings.Contains(s, tt.want) {
					t.Errorf("formatted client %q shows the token", s)
				}
			}
		})
	}
}

// Cases ported from apptuit-py's tests/test_token_and_tags.py.
func TestNewGlobalTags(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		opts    []Option
		want    map[string]string
		wantErr string
	}{
		{"spaces", map[string]string{EnvTags: "tagk1: 22, tagk2: tagv2"}, nil, map[string]string{"tagk1": "22", "tagk2": "tagv2"}, ""},
		{"empty item", map[string]string{EnvTags: "tagk1: 22, , tagk2: tagv2"}, nil, map[string]string{"tagk1": "22", "tagk2": "tagv2"}, ""},
		{"no spaces", map[string]string{EnvTags: "  tagk1 : 22,,tagk2  : tagv2  "}, nil, map[string]string{"tagk1": "22", "tagk2": "tagv2"}, ""},
		{"edge commas", map[string]string{EnvTags: ",tagk1: 22, tagk2: tagv2,"}, nil, map[string]string{"tagk1": "22", "tagk2": "tagv2"}, ""},
		{"many commas", map[string]string{EnvTags: ", , , , tagk1: 22, tagk2: tagv2, , ,  , ,"}, nil, map[string]string{"tagk1": "22", "tagk2": "tagv2"}, ""},
		{"py fallback", map[string]string{EnvTagsPy: "a: b"}, nil, map[string]string{"a": "b"}, ""},
		{"new wins", map[string]string{EnvTags: "a: new", EnvTagsPy: "a: old"}, nil, map[string]string{"a": "new"}, ""},
		{"option wins", map[string]string{EnvTags: "a: env"}, []Option{WithGlobalTags(map[string]string{"b": "opt"})}, map[string]string{"b": "opt"}, ""},
		{"ignored", map[string]string{EnvTags: "a: env"}, []Option{WithIgnoreEnvTags()}, map[string]string{}, ""},
		{"ignored bad", map[string]string{EnvTags: "bad"}, []Option{WithIgnoreEnvTags()}, map[string]string{}, ""},
		{"bad quoted key", map[string]string{EnvTags: `"tagk1": tagv1`}, nil, nil, `"\"tagk1\": tagv1"`},
		{"two colons", map[string]string{EnvTags: "tagk1: tagv11: tagv12"}, nil, nil, `"tagk1: tagv11: tagv12"`},
		{"no colon", map[string]string{EnvTags: "tag"}, nil, nil, `"tag"`},
		{"no colon mid", map[string]string{EnvTags: "  tagk1 : 22,error,tagk2  : tagv2  "}, nil, nil, `"error"`},
		{"empty key", map[string]string{EnvTags: ":a"}, nil, nil, `":a"`},
		{"brace", map[string]string{EnvTagsPy: "{InvalidTags"}, nil, nil, `APPTUIT_PY_TAGS: cannot parse tag "{InvalidTags"`},
		{"invalid key char", nil, []Option{WithGlobalTags(map[string]string{"a b": "c"})}, nil, `tag key "a b" has a character outside`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := New(append([]Option{WithToken("t")}, tt.opts...)...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.GlobalTags(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("GlobalTags() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewOptions(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name    string
		opt     Option
		wantErr string
	}{
		{"endpoint empty", WithEndpoint(""), "WithEndpoint: endpoint is empty"},
		{"endpoint slash only", WithEndpoint("/"), "WithEndpoint: endpoint is empty"},
		{"endpoint scheme", WithEndpoint("api.apptuit.ai"), `endpoint "api.apptuit.ai" must start with http:// or https://`},
		{"timeout", WithTimeout(-time.Second), "WithTimeout: -1s is negative"},
		{"retries", WithRetries(-1), "WithRetries: -1 is negative"},
		{"backoff", WithBackoff(time.Second, time.Millisecond), "WithBackoff: want 0 < base <= max"},
		{"compression", WithCompression(Compression(7)), "unknown compression 7"},
		{"level", WithCompressionLevel(12), "WithCompressionLevel: 12 is not -1 or 1..9"},
		{"batch", WithBatchSize(0), "WithBatchSize: 0 is not positive"},
		{"http client", WithHTTPClient(nil), "WithHTTPClient: client is nil"},
		{"max response", WithMaxResponseBytes(0), "WithMaxResponseBytes: 0 is not positive"},
		{"prom path", WithPromQLPath("api"), `WithPromQLPath: "api" must start with '/'`},
		{"too many global tags", WithGlobalTags(manyTags(26)), "26 global tags, at most 25 are allowed"},
	}
	for _, tt := range tests {
		_, err := New(WithToken("t"), tt.opt)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
	c, err := New(WithToken("t"), WithEndpoint("http://127.0.0.1:4242//"))
	if err != nil || c.Endpoint() != "http://127.0.0.1:4242" {
		t.Errorf("Endpoint() = %q, %v; want trailing slashes stripped", c.Endpoint(), err)
	}
	c, _ = New(WithToken("t"))
	if c.Endpoint() != "https://api.apptuit.ai" {
		t.Errorf("default endpoint = %q", c.Endpoint())
	}
}

func manyTags(n int) map[string]string {
	m := make(map[string]string, n)
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("k%02d", i)] = "v"
	}
	return m
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"Wed, 25 Nov 2026 12:00:10 GMT", 10 * time.Second, true},
		{"Wed, 25 Nov 2026 11:00:00 GMT", 0, true},
		{"86400", 5 * time.Minute, true},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	c := mustNew(t, WithToken("t"), WithBackoff(100*time.Millisecond, time.Second))
	for attempt, ceil := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second} {
		for i := 0; i < 200; i++ {
			if d := c.backoff(attempt); d < 0 || d >= ceil {
				t.Fatalf("backoff(%d) = %v, want in [0, %v)", attempt, d, ceil)
			}
		}
	}
	if d := c.backoff(1000); d < 0 || d >= time.Second {
		t.Fatalf("backoff(1000) = %v", d)
	}
}
