package reqlog

import (
	"context"
	"net/http"
)

type recordKey[T any] struct{}

// WithRecord returns ctx carrying rec, the record of a request that its
// handlers fill in (counts, errors) before it is logged.
func WithRecord[T any](ctx context.Context, rec *T) context.Context {
	return context.WithValue(ctx, recordKey[T]{}, rec)
}

// RecordOf returns the record r carries (see WithRecord), or a new one,
// logged nowhere, when it carries none.
func RecordOf[T any](r *http.Request) *T {
	if rec, _ := r.Context().Value(recordKey[T]{}).(*T); rec != nil {
		return rec
	}
	return new(T)
}
