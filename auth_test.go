package apptuit

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The token rules: WithToken, else the variables, else an error; WithNoAuth
// sends none, reads none, and is refused with a token or for Apptuit.
func TestTokenRules(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		opts     []Option
		wantAuth string // the Authorization header sent; "-" for none
		wantErr  string
		noToken  bool // the error matches ErrNoToken
	}{
		{"option", map[string]string{EnvToken: "env"}, []Option{WithToken("opt")}, "Bearer opt", "", false},
		{"variable", map[string]string{EnvToken: "env", EnvTokenPy: "py"}, nil, "Bearer env", "", false},
		{"py variable", map[string]string{EnvTokenPy: "py"}, nil, "Bearer py", "", false},
		{"none", nil, nil, "", "apptuit: no API token: use WithToken or set APPTUIT_API_TOKEN (or APPTUIT_PY_TOKEN)", true},
		{"no auth", nil, []Option{WithNoAuth()}, "-", "", false},
		{"no auth ignores the variables", map[string]string{EnvToken: "env"}, []Option{WithNoAuth()}, "-", "", false},
		{"no auth and a token", nil, []Option{WithNoAuth(), WithToken("t")}, "",
			"apptuit: WithNoAuth and WithToken both given: a client sends a token or none", false},
		{"no auth for Apptuit", nil, []Option{WithNoAuth(), WithEndpoint(DefaultEndpoint)}, "",
			"apptuit: no API token: https://api.apptuit.ai needs one (WithNoAuth is for servers without authentication)", true},
		{"no auth for an Apptuit subdomain", nil, []Option{WithNoAuth(), WithEndpoint("https://EU.Apptuit.AI:443/")}, "",
			"apptuit: no API token: https://EU.Apptuit.AI:443 needs one (WithNoAuth is for servers without authentication)", true},
		{"no auth for a look-alike host", nil, []Option{WithNoAuth(), WithEndpoint("http://notapptuit.ai")}, "-", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			srv := newRecorder(t)
			// The endpoint goes first: a test's own WithEndpoint wins.
			c, err := New(append([]Option{WithEndpoint(srv.URL), WithRetries(0)}, tt.opts...)...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || errors.Is(err, ErrNoToken) != tt.noToken {
					t.Fatalf("err = %v, want %q (ErrNoToken %v)", err, tt.wantErr, tt.noToken)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "no auth for a look-alike host" {
				return // nothing listens there
			}
			if err := c.Send(context.Background(), points(1)); err != nil {
				t.Fatal(err)
			}
			h := srv.requests()[0].Header
			got := h.Get("Authorization")
			if _, ok := h["Authorization"]; !ok {
				got = "-"
			}
			if got != tt.wantAuth {
				t.Errorf("Authorization %q, want %q", got, tt.wantAuth)
			}
		})
	}
}

// A 401 to a client without a token says that none was sent.
func TestNoAuth401(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	srv.queue(401, "")
	c := mustNew(t, WithEndpoint(srv.URL), WithNoAuth(), WithRetries(0))
	err := c.Send(context.Background(), points(2))
	if !errors.Is(err, ErrUnauthorized) || err.Error() != "apptuit: send: 2 points not delivered: the server wants an API token (401 Unauthorized) and none was sent (WithNoAuth)" {
		t.Errorf("err = %v", err)
	}
	srv.queue(401, `{"error":"token required"}`)
	_, err = c.Query(context.Background(), "q", time.Unix(1, 0), time.Time{})
	if !errors.Is(err, ErrUnauthorized) || err.Error() != "apptuit: query: the server wants an API token (401 Unauthorized) and none was sent (WithNoAuth): token required" {
		t.Errorf("err = %v", err)
	}
}
