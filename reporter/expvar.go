package reporter

import (
	"context"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/apptuit-go/apptuit"
)

// DefaultExpvarMapTag is the tag key that holds an *expvar.Map's keys.
const DefaultExpvarMapTag = "key"

// expvarMaxDepth is how deep maps nested in maps are read.
const expvarMaxDepth = 8

// An ExpvarOption configures the source Expvar returns.
type ExpvarOption func(*expvarSource) error

// ExpvarMapTag sets the tag key under which the keys of an *expvar.Map are
// sent (default "key"). It must follow Apptuit's rule for tag keys.
func ExpvarMapTag(key string) ExpvarOption {
	return func(s *expvarSource) error {
		var ve *apptuit.ValidationError
		if err := apptuit.ValidateMetric("expvar", map[string]string{key: "v"}); errors.As(err, &ve) {
			return fmt.Errorf("ExpvarMapTag(%q): %s", key, ve.Rule)
		}
		s.mapTag = key
		return nil
	}
}

// ExpvarSkip sets the names of the variables left out, instead of the
// default "memstats" and "cmdline": ExpvarSkip() with no names reads
// them all, ExpvarSkip("cmdline") adds the runtime.MemStats fields (each
// read stops the world briefly, as runtime.ReadMemStats does).
func ExpvarSkip(names ...string) ExpvarOption {
	return func(s *expvarSource) error {
		s.skip = slices.Clone(names)
		return nil
	}
}

// Expvar returns a Source over the numeric variables published with the
// expvar package (expvar.Do), read at every report:
//
//	*expvar.Int, *expvar.Float   one point named as the variable
//	*expvar.Map                  one point per numeric value, named as the
//	                             map, its key in the tag "key" (ExpvarMapTag);
//	                             a map in a map adds its key to the name:
//	                             <map>.<key>, its own keys in the tag
//	expvar.Func                  one point when it returns a number (any
//	                             integer or float type); anything else is
//	                             read as JSON, as other Vars are
//	*expvar.String               skipped
//	any other expvar.Var         read from its String() JSON: a number is one
//	                             point; an object's numeric members are
//	                             points named <name>.<member> (nested objects
//	                             joined with '.'); strings, booleans, null
//	                             and arrays are skipped
//
// Names (the variable's, and the map keys and members joined into it) are
// sanitized with apptuit.SanitizeApptuit: every character outside letters,
// digits, '.', '-', '_' and '/' becomes '_' ("requests/sec" stays,
// "my var" becomes "my_var"). Map keys used as tag values are sent as they
// are; an empty one makes its series a *MetricError. Maps nested more than
// 8 deep are left out. Integers are sent as float64 (exact up to 2^53).
//
// The variables "memstats" (an expvar.Func returning runtime.MemStats,
// whose every read stops the world) and "cmdline" (strings) are skipped
// unless ExpvarSkip says otherwise; with memstats read, its numeric fields
// become memstats.Alloc, memstats.HeapInuse, ... (its arrays, such as
// PauseNs and BySize, are skipped).
//
// Cost: reading an *expvar.Int, *expvar.Float or a map of them allocates
// nothing once its name has been seen; a Func returning a structure, or a
// custom Var, costs its JSON encoding and decoding. An invalid option makes
// every Collect return an error naming it, and emit nothing. The source may
// be shared by several reporters.
func Expvar(opts ...ExpvarOption) Source {
	s := &expvarSource{mapTag: DefaultExpvarMapTag, skip: []string{"memstats", "cmdline"}, names: make(map[string]*expvarName)}
	for _, o := range opts {
		if o == nil {
			s.err = errors.New("reporter: Expvar: nil option")
			break
		}
		if err := o(s); err != nil {
			s.err = fmt.Errorf("reporter: Expvar: %w", err)
			break
		}
	}
	return s
}

type expvarSource struct {
	mapTag string
	skip   []string
	err    error // of an option

	mu    sync.Mutex // one Collect at a time
	vars  []expvar.KeyValue
	emit  Emit
	path  []byte                 // raw name being built
	names map[string]*expvarName // sanitized names by raw path
	gen   uint64
	seen  int               // names seen by this Collect
	tag   map[string]string // {mapTag: key}, reused
}

type expvarName struct {
	name string
	seen uint64
}

func (s *expvarSource) String() string { return "expvar" }

// Collect emits the points of every published variable.
func (s *expvarSource) Collect(ctx context.Context, emit Emit) error {
	if s.err != nil {
		return s.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Read the list first: a Func run while expvar's list is locked could
	// not publish a variable.
	s.vars = s.vars[:0]
	expvar.Do(func(kv expvar.KeyValue) {
		if !slices.Contains(s.skip, kv.Key) {
			s.vars = append(s.vars, kv)
		}
	})
	s.emit, s.gen, s.seen = emit, s.gen+1, 0
	if s.tag == nil {
		s.tag = map[string]string{s.mapTag: ""}
	}
	for i, kv := range s.vars {
		if i%64 == 0 && ctx.Err() != nil {
			break
		}
		s.path = append(s.path[:0], kv.Key...)
		if m, ok := kv.Value.(*expvar.Map); ok {
			s.readMap(m, 1)
		} else {
			s.readLeaf(kv.Value, "", false)
		}
	}
	clear(s.vars) // do not keep the variables alive
	s.emit = nil
	if len(s.names) != s.seen { // forget the names of variables gone
		for k, n := range s.names {
			if n.seen != s.gen {
				delete(s.names, k)
			}
		}
	}
	return ctx.Err()
}

// readMap reads the entries of m, whose name is s.path.
func (s *expvarSource) readMap(m *expvar.Map, depth int) {
	n := len(s.path)
	m.Do(func(kv expvar.KeyValue) {
		if inner, ok := kv.Value.(*expvar.Map); ok {
			if depth < expvarMaxDepth {
				s.path = append(append(s.path[:n], '.'), kv.Key...)
				s.readMap(inner, depth+1)
				s.path = s.path[:n]
			}
			return
		}
		s.readLeaf(kv.Value, kv.Key, true)
	})
}

// readLeaf emits v, named s.path, tagged with key when tagged.
func (s *expvarSource) readLeaf(v expvar.Var, key string, tagged bool) {
	switch v := v.(type) {
	case *expvar.Int:
		s.point(key, tagged, float64(v.Value()))
	case *expvar.Float:
		s.point(key, tagged, v.Value())
	case *expvar.String:
	case expvar.Func:
		x := v.Value()
		if f, ok := number(x); ok {
			s.point(key, tagged, f)
			return
		}
		// Only a struct or a map (or a pointer to one) can hold numbers to
		// read as JSON: strings, booleans and slices are skipped unread.
		t := reflect.TypeOf(x)
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t != nil && (t.Kind() == reflect.Struct || t.Kind() == reflect.Map) {
			if b, err := json.Marshal(x); err == nil {
				s.readJSON(string(b), key, tagged)
			}
		}
	case nil:
	default:
		s.readJSON(v.String(), key, tagged)
	}
}

// number returns x as a float64 when it is a Go number.
func number(x any) (float64, bool) {
	switch x := x.(type) {
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uintptr:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// readJSON emits the numbers of a Var's JSON text: the value itself, or
// the numeric members of an object (nested objects' joined with '.').
func (s *expvarSource) readJSON(text, key string, tagged bool) {
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return
	}
	s.walkJSON(v, key, tagged, 0)
}

func (s *expvarSource) walkJSON(v any, key string, tagged bool, depth int) {
	switch v := v.(type) {
	case json.Number:
		if f, err := v.Float64(); err == nil {
			s.point(key, tagged, f)
		}
	case map[string]any:
		if depth >= expvarMaxDepth {
			return
		}
		n := len(s.path)
		for _, k := range slices.Sorted(maps.Keys(v)) {
			s.path = append(append(s.path[:n], '.'), k...)
			s.walkJSON(v[k], key, tagged, depth+1)
		}
		s.path = s.path[:n]
	}
}

// point emits v under the sanitized form of s.path.
func (s *expvarSource) point(key string, tagged bool, v float64) {
	n := s.names[string(s.path)]
	if n == nil {
		n = &expvarName{name: apptuit.SanitizeApptuit(string(s.path))}
		s.names[string(s.path)] = n
	}
	if n.seen != s.gen {
		n.seen = s.gen
		s.seen++
	}
	if !tagged {
		s.emit(n.name, nil, v)
		return
	}
	s.tag[s.mapTag] = key
	s.emit(n.name, s.tag, v)
}
