package apptuit

import (
	"compress/gzip"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// optionEffects has a row for every option New takes: the option set to
// something other than its default, and a check that the client took it.
// (TestNewOptions checks the values each refuses; the behaviour behind each
// is tested where it is implemented.)
var optionEffects = []struct {
	name  string
	opts  []Option
	check func(c *Client) bool
}{
	{"WithToken", []Option{WithToken("tok")}, func(c *Client) bool { return c.auth == "Bearer tok" }},
	{"WithNoAuth", []Option{WithNoAuth(), WithEndpoint("http://127.0.0.1:8428")}, func(c *Client) bool { return c.auth == "" && c.fixedHeaders.auth[0] == "" }},
	{"WithEndpoint", []Option{WithEndpoint("http://127.0.0.1:4242/")}, func(c *Client) bool { return c.Endpoint() == "http://127.0.0.1:4242" }},
	{"WithGlobalTags", []Option{WithGlobalTags(map[string]string{"dc": "eu"})}, func(c *Client) bool {
		return maps.Equal(c.GlobalTags(), map[string]string{"dc": "eu"}) // the environment's are not read
	}},
	{"WithIgnoreEnvTags", []Option{WithIgnoreEnvTags()}, func(c *Client) bool { return len(c.GlobalTags()) == 0 }},
	{"WithSanitizer", []Option{WithSanitizer(SanitizePrometheus)}, func(c *Client) bool {
		return c.ValidateMetric("cpu user", map[string]string{"host": "a"}) == nil
	}},
	{"WithHTTPClient", []Option{WithHTTPClient(http.DefaultClient)}, func(c *Client) bool {
		// A copy, whose CheckRedirect refuses what leaves the endpoint's origin.
		return c.cfg.httpClient == http.DefaultClient && c.hc != http.DefaultClient && c.hc.Transport == http.DefaultClient.Transport && c.hc.CheckRedirect != nil
	}},
	{"WithTimeout", []Option{WithTimeout(time.Second)}, func(c *Client) bool { return c.cfg.timeout == time.Second }},
	{"WithRetries", []Option{WithRetries(0)}, func(c *Client) bool { return c.cfg.retries == 0 }},
	{"WithBackoff", []Option{WithBackoff(time.Millisecond, time.Second)}, func(c *Client) bool {
		return c.cfg.backoffBase == time.Millisecond && c.cfg.backoffMax == time.Second
	}},
	{"WithCompression", []Option{WithCompression(Deflate)}, func(c *Client) bool {
		return c.encoding == "deflate" && !c.parGzip && c.fixedHeaders.put.Get("Content-Encoding") == "deflate"
	}},
	{"WithCompressionLevel", []Option{WithCompressionLevel(9)}, func(c *Client) bool { return c.cfg.level == 9 }},
	{"WithCompressor", []Option{WithCompressor("gzip", func(w io.Writer) (Compressor, error) { return gzip.NewWriter(w), nil })},
		func(c *Client) bool { return c.encoding == "gzip" && !c.parGzip && c.newZW != nil }},
	{"WithBatchSize", []Option{WithBatchSize(10)}, func(c *Client) bool { return c.BatchSize() == 10 }},
	{"WithConcurrency", []Option{WithConcurrency(3)}, func(c *Client) bool { return c.Concurrency() == 3 }},
	{"WithMaxResponseBytes", []Option{WithMaxResponseBytes(1 << 10)}, func(c *Client) bool { return c.cfg.maxResponse == 1<<10 }},
	{"WithPromQLPath", []Option{WithPromQLPath("/api/v1/query_range")}, func(c *Client) bool { return c.cfg.promPath == "/api/v1/query_range" }},
	{"WithDenyPartial", []Option{WithDenyPartial()}, func(c *Client) bool { return c.cfg.denyPartial }},
	{"WithUserAgent", []Option{WithUserAgent("orders/1.2")}, func(c *Client) bool { return strings.HasSuffix(c.userAgent, ") orders/1.2") }},
	{"WithTimestampPrecision", []Option{WithTimestampPrecision(PrecisionSeconds)}, func(c *Client) bool { return c.TimestampPrecision() == PrecisionSeconds }},
	{"WithLineTransport", []Option{WithLineTransport(TelnetTCP("127.0.0.1:4242"))}, func(c *Client) bool {
		return c.cfg.line != nil && c.lineUnsupported("query") != nil
	}},
}

func TestEveryOptionTakesEffect(t *testing.T) {
	clearEnv(t)
	t.Setenv(EnvTags, "env: yes")
	for _, tt := range optionEffects {
		opts := tt.opts
		if tt.name != "WithToken" && tt.name != "WithNoAuth" {
			opts = append([]Option{WithToken("t")}, opts...)
		}
		c, err := New(opts...)
		if err != nil {
			t.Errorf("%s: New: %v", tt.name, err)
			continue
		}
		if !tt.check(c) {
			t.Errorf("%s: not taken by the client", tt.name)
		}
	}
	c := mustNew(t, WithToken("t"))
	if !maps.Equal(c.GlobalTags(), map[string]string{"env": "yes"}) {
		t.Errorf("the environment's tags are not read by default: %v", c.GlobalTags())
	}
}

// TestEveryOptionIsTested: every exported function of the package that
// returns an Option has a row in optionEffects.
func TestEveryOptionIsTested(t *testing.T) {
	tested := make(map[string]bool)
	for _, tt := range optionEffects {
		tested[tt.name] = true
	}
	for _, name := range optionFuncs(t, ".", "Option") {
		if !tested[name] {
			t.Errorf("option %s has no row in optionEffects", name)
		}
		delete(tested, name)
	}
	for name := range tested {
		t.Errorf("optionEffects has a row for %s, which is not an option", name)
	}
}

// optionFuncs returns the exported functions of the non-test files in dir
// whose only result is of the named type.
func optionFuncs(t *testing.T, dir, typ string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, dir+"/"+e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || !fd.Name.IsExported() || fd.Type.Results == nil || len(fd.Type.Results.List) != 1 {
				continue
			}
			if id, ok := fd.Type.Results.List[0].Type.(*ast.Ident); ok && id.Name == typ {
				names = append(names, fd.Name.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}
