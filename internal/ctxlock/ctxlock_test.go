package ctxlock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLock(t *testing.T) {
	l := New()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Acquire(done); err != nil {
		t.Fatalf("a free lock with an ended ctx: %v, want it taken", err)
	}
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	if err := l.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a held lock: %v, want the ctx's deadline", err)
	}
	got := make(chan error, 1)
	go func() { got <- l.Acquire(context.Background()) }()
	time.Sleep(10 * time.Millisecond)
	l.Release()
	if err := <-got; err != nil {
		t.Fatalf("after Release: %v", err)
	}
	l.Release()
	l.Take()
	l.Release()
}
