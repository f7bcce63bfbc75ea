package reporter

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/metrics"
)

// optionEffects has a row for every option New takes (and Expvar's): the
// option set to something other than its default, and a check that the
// reporter took it. The behaviour behind each is tested where it is
// implemented.
var optionEffects = []struct {
	name  string
	opts  []Option
	check func(r *Reporter) bool
}{
	{"WithInterval", []Option{WithInterval(time.Second)}, func(r *Reporter) bool {
		return r.cfg.interval == time.Second && r.cfg.sendTimeout == 10*time.Second
	}},
	{"WithTags", []Option{WithTags(map[string]string{"svc": "a"})}, func(r *Reporter) bool { return r.Tags()["svc"] == "a" }},
	{"WithPrefix", []Option{WithPrefix("app.")}, func(r *Reporter) bool { return r.cfg.prefix == "app." }},
	{"WithErrorHandler", []Option{WithErrorHandler(nil)}, func(r *Reporter) bool { return r.cfg.handlerSet && r.cfg.handler == nil }},
	{"WithErrorWriter", []Option{WithErrorWriter(io.Discard)}, func(r *Reporter) bool { return r.cfg.errWriter == io.Discard }},
	{"WithHostTag", []Option{WithHostTag("h1")}, func(r *Reporter) bool { return maps.Equal(r.Tags(), map[string]string{"env": "yes", "host": "h1"}) }},
	{"WithIgnoreEnvTags", []Option{WithIgnoreEnvTags(), WithHostTag("")}, func(r *Reporter) bool { return len(r.Tags()) == 0 }},
	{"WithSource", []Option{WithSource(RuntimeMetrics())}, func(r *Reporter) bool { return len(r.sources) == 1 }},
	{"WithBufferSize", []Option{WithBufferSize(7)}, func(r *Reporter) bool { return r.buf.(*memoryBuffer).limit == 7 }},
	{"WithClock", []Option{WithClock(func() time.Time { return t0 })}, func(r *Reporter) bool { return r.cfg.now().Equal(t0) }},
	{"WithSpool", nil, func(r *Reporter) bool { return r.spool != nil && !r.cfg.spool.noSync }}, // opts set below: a directory per run
	{"WithSpoolNoSync", []Option{WithSpoolNoSync()}, func(r *Reporter) bool { return r.cfg.spool.noSync }},
}

func TestEveryOptionTakesEffect(t *testing.T) {
	clearEnv(t)
	t.Setenv("APPTUIT_TAGS", "env: yes")
	c := newClient(t, "http://127.0.0.1:1")
	for _, tt := range optionEffects {
		opts := tt.opts
		if tt.name == "WithSpool" {
			opts = []Option{WithSpool(t.TempDir(), MinSpoolBytes)}
		}
		r, err := New(c, metrics.NewRegistry(), opts...)
		if err != nil {
			t.Errorf("%s: New: %v", tt.name, err)
			continue
		}
		if !tt.check(r) {
			t.Errorf("%s: not taken by the reporter", tt.name)
		}
		if r.spool != nil {
			r.spool.close()
		}
	}
}

func TestEveryExpvarOptionTakesEffect(t *testing.T) {
	for _, tt := range []struct {
		name  string
		opt   ExpvarOption
		check func(s *expvarSource) bool
	}{
		{"ExpvarMapTag", ExpvarMapTag("field"), func(s *expvarSource) bool { return s.mapTag == "field" }},
		{"ExpvarSkip", ExpvarSkip("cmdline"), func(s *expvarSource) bool { return slices.Equal(s.skip, []string{"cmdline"}) }},
	} {
		if s := Expvar(tt.opt).(*expvarSource); s.err != nil || !tt.check(s) {
			t.Errorf("%s: not taken by the source (%v)", tt.name, s.err)
		}
	}
	got := optionFuncs(t, "ExpvarOption")
	if want := []string{"ExpvarMapTag", "ExpvarSkip"}; !slices.Equal(got, want) {
		t.Errorf("Expvar options %v, want a row in this test for each of %v", got, want)
	}
}

// TestEveryOptionIsTested: every exported function of the package that
// returns an Option has a row in optionEffects.
func TestEveryOptionIsTested(t *testing.T) {
	tested := make(map[string]bool)
	for _, tt := range optionEffects {
		tested[tt.name] = true
	}
	for _, name := range optionFuncs(t, "Option") {
		if !tested[name] {
			t.Errorf("option %s has no row in optionEffects", name)
		}
		delete(tested, name)
	}
	for name := range tested {
		t.Errorf("optionEffects has a row for %s, which is not an option", name)
	}
}

// optionFuncs returns the exported functions of the package's non-test
// files whose only result is of the named type.
func optionFuncs(t *testing.T, typ string) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, 0)
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
