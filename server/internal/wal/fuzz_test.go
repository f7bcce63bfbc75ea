package wal

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzOpen writes arbitrary bytes after a valid segment header (or in place
// of it) and checks that Open never panics nor fails on damaged content,
// that the repair is complete (a second Open replays the same records and
// drops nothing) and that appending after it works.
func FuzzOpen(f *testing.F) {
	valid := append(recordBytes([]byte("first")), recordBytes([]byte("second record"))...)
	f.Add(valid, true)
	f.Add(valid[:len(valid)-3], true)
	f.Add(append(valid, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), true)
	f.Add([]byte{}, true)
	f.Add([]byte("APTTWAL1\x01\x00\x00\x00"), false)
	f.Fuzz(func(t *testing.T, body []byte, withHeader bool) {
		dir := t.TempDir()
		b := body
		if withHeader {
			b = append(header(true), body...)
		}
		if err := os.WriteFile(filepath.Join(dir, "0000000000000001.wal"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		l, first, _ := open(t, dir, Options{})
		if err := l.Append([]byte("after")); err != nil {
			t.Fatal(err)
		}
		l.Close()
		l, again, rep := open(t, dir, Options{})
		l.Close()
		want := append(first, []byte("after"))
		if len(rep.Drops) != 0 || !reflect.DeepEqual(again, want) {
			t.Fatalf("second open: %d records (want %d), drops %+v", len(again), len(want), rep.Drops)
		}
	})
}
