// Package inflight runs a sequence of jobs with a bounded number in
// flight: the one mechanism behind the client's batches (apptuit) and the
// reporter's sends (reporter).
package inflight

// Window starts jobs in the order they are added, each on a goroutine of
// its own (or, when Limit is 1, on the caller's), and hands every result
// to Done in that same order, on the goroutine that calls Add or Wait. A
// job starts once fewer than Limit jobs are started and not handed back,
// so at most Limit run at once and a job never starts more than Limit
// places ahead of one still running. Stop, asked about each result as soon
// as its job ends (in whatever order jobs end), can end the sequence: once
// it returns true no further job starts. Done may change Limit.
//
// A Window is used by one goroutine; its zero value with Done set is
// ready (Limit below 1 counts as 1). Every Window that started a job must
// be waited for with Wait.
type Window[T any] struct {
	Limit int
	Done  func(T)
	Stop  func(T) bool // nil: never stop

	queue   []*job[T] // added and not handed to Done yet, in order
	running int
	ended   chan *job[T]
	stopped bool
}

type job[T any] struct {
	res  T
	done chan struct{} // closed when res is set
}

// Add waits until fewer than Limit jobs are started and not handed back,
// handing finished results to Done meanwhile, then starts run and returns
// true; it returns false without starting run once Stop has returned
// true.
func (w *Window[T]) Add(run func() T) bool {
	if !w.Room() {
		return false
	}
	if w.Limit <= 1 {
		// Every job has ended and been handed back: run this one here.
		res := run()
		w.noteEnd(res)
		w.Done(res)
		return true
	}
	j := &job[T]{done: make(chan struct{})}
	w.queue = append(w.queue, j)
	if w.ended == nil {
		w.ended = make(chan *job[T])
	}
	w.running++
	go func() {
		j.res = run()
		close(j.done)
		w.ended <- j
	}()
	return true
}

// Room waits until a job added now would start at once (fewer than Limit
// jobs started and not handed back), handing finished results to Done
// meanwhile, and returns true; it returns false once Stop has returned
// true. A caller that must know when its job would start calls it before
// Add.
func (w *Window[T]) Room() bool {
	w.handBack(false)
	for !w.stopped && len(w.queue) >= max(w.Limit, 1) {
		w.ended1()
	}
	return !w.stopped
}

// Stopped reports whether Stop has returned true.
func (w *Window[T]) Stopped() bool { return w.stopped }

// Wait waits for every job started and hands the results not handed yet to
// Done, in order.
func (w *Window[T]) Wait() {
	for w.running > 0 {
		w.ended1()
	}
	w.handBack(true)
}

// ended1 waits for one running job to end.
func (w *Window[T]) ended1() {
	j := <-w.ended
	w.running--
	w.noteEnd(j.res)
	w.handBack(false)
}

func (w *Window[T]) noteEnd(res T) {
	if w.Stop != nil && !w.stopped && w.Stop(res) {
		w.stopped = true
	}
}

// handBack hands to Done the results of the oldest jobs that have ended
// (of all of them, waiting, when wait is set).
func (w *Window[T]) handBack(wait bool) {
	for len(w.queue) > 0 {
		j := w.queue[0]
		if !wait {
			select {
			case <-j.done:
			default:
				return
			}
		}
		<-j.done
		w.queue[0] = nil
		w.queue = w.queue[1:]
		w.Done(j.res)
	}
}
