package metrics

import "sync/atomic"

// index maps canonical keys to entries with standard maps. Lookups of
// entries it has published take no lock and write nothing shared, so that
// goroutines looking up the same series at once do not slow each other
// down (a sync.RWMutex's read lock is a write to one shared word); changes
// take the registry's lock.
//
// It is sync.Map's original design for string keys, which sync.Map itself
// would have to box into interfaces: read is a published map that is never
// modified; dirty, when not nil, is the map of every entry (read's and the
// ones added since), and is published in place of read once lookups have
// missed read (and found the key in dirty) as many times as dirty has
// entries, so that publishing, which costs nothing but a pointer store, is
// amortised over the lookups that needed it. The first addition after a
// publication copies read into a new dirty map: O(n) once per publication,
// O(1) amortised per lookup.
//
// Removals unpublish read (lookups then go through dirty under the lock
// until the next publication), so that no lookup returns a removed entry.
// Go maps do not shrink, so a map that has lost most of its entries is
// rebuilt when it is published or replaced.
type index struct {
	read   atomic.Pointer[map[string]*entry]
	dirty  map[string]*entry
	misses int
	peak   int // the most entries dirty has held since it was made
}

// load returns the published entry of key, or nil. It takes no lock and
// does not allocate.
func (x *index) load(key []byte) *entry {
	if m := x.read.Load(); m != nil {
		return (*m)[string(key)]
	}
	return nil
}

// get returns the entry of key, or nil. The registry's lock must be held.
func (x *index) get(key []byte) *entry {
	if x.dirty == nil {
		return x.load(key)
	}
	e := x.dirty[string(key)]
	if e != nil {
		x.missed()
	}
	return e
}

// missed counts a lookup that read could not answer, and publishes dirty
// when they add up to its size.
func (x *index) missed() {
	x.misses++
	if x.misses < len(x.dirty) {
		return
	}
	m := x.dirty
	if len(m) < x.peak/4 {
		m = rebuilt(m)
	}
	x.read.Store(&m)
	x.dirty, x.misses, x.peak = nil, 0, 0
}

// all returns the map of every entry, which the caller must not modify.
// The registry's lock must be held.
func (x *index) all() map[string]*entry {
	if x.dirty != nil {
		return x.dirty
	}
	if m := x.read.Load(); m != nil {
		return *m
	}
	return nil
}

// len returns the number of entries. The registry's lock must be held.
func (x *index) len() int { return len(x.all()) }

// writable makes dirty the map of every entry, copying read if needed.
func (x *index) writable() {
	if x.dirty != nil {
		return
	}
	old := x.all()
	x.dirty = make(map[string]*entry, len(old)+1)
	for k, e := range old {
		x.dirty[k] = e
	}
	x.peak = len(x.dirty)
}

// put adds e under key. The registry's lock must be held.
func (x *index) put(key string, e *entry) {
	x.writable()
	x.dirty[key] = e
	x.peak = max(x.peak, len(x.dirty))
}

// remove removes the entry of key. The registry's lock must be held.
func (x *index) remove(key string) {
	x.writable()
	delete(x.dirty, key)
	if len(x.dirty) < x.peak/4 {
		x.dirty = rebuilt(x.dirty)
		x.peak = len(x.dirty)
	}
	x.read.Store(nil)
	x.misses = 0
}

// replace makes m, a map no one else holds, the map of every entry, and
// publishes it.
func (x *index) replace(m map[string]*entry) {
	x.read.Store(&m)
	x.dirty, x.misses, x.peak = nil, 0, 0
}

// rebuilt returns a copy of m in a map sized for its entries. (Rebuilding
// once a map has lost three quarters of the entries it held costs O(1)
// amortised per removal.)
func rebuilt(m map[string]*entry) map[string]*entry {
	n := make(map[string]*entry, len(m))
	for k, e := range m {
		n[k] = e
	}
	return n
}
