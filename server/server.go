package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
	"github.com/apptuit-go/apptuit/internal/ql"
	"github.com/apptuit-go/apptuit/internal/reqlog"
	"github.com/apptuit-go/apptuit/server/internal/store"
)

// Server is the local backend. All methods are safe for concurrent use.
type Server struct {
	cfg     config
	store   *store.Store
	put     opentsdb.Put
	query   opentsdb.Query
	hosts   hostSet // answered besides loopback (guard.go)
	promql  *promQL
	reqs    *reqlog.Ring[Request]
	handler http.Handler
	loaded  store.LoadReport // what the data directory held at the start
	done    chan struct{}    // closed by Close

	mu        sync.Mutex
	hs        []*http.Server // started by Serve
	lineConns map[*lineConn]struct{}
	sniffing  map[net.Conn]struct{} // accepted by Serve, first byte not read yet
	lineWG    sync.WaitGroup        // line connections being served
	closeOnce sync.Once
}

// ErrDataDirLocked is matched (errors.Is) by the error of New when another
// Server, in this process or another, holds its WithDataDir directory.
// The error names the lock file and the holder's pid.
var ErrDataDirLocked = store.ErrLocked

// New returns a Server, or an error for an invalid option or a data
// directory (WithDataDir) that cannot be opened or read. Its cost is that
// of loading the data directory, if any. Serve it with Serve, or its
// Handler on an http.Server of your own; Close it when done.
func New(opts ...Option) (*Server, error) {
	cfg := config{logSize: DefaultRequestLogSize, maxMemory: DefaultMaxMemory, syncInterval: DefaultSyncInterval, now: time.Now, lineIdle: lineIdleTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	hosts, err := newHostSet(cfg.allowedHosts)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, hosts: hosts, done: make(chan struct{}), reqs: reqlog.NewRing[Request](cfg.logSize)}
	s.store = store.New(cfg.retention, storeBudget(cfg.maxMemory), cfg.now)
	s.put = opentsdb.Put{
		MaxBody: maxBody, MaxDecompressed: maxDecompressed, BodyTimeout: bodyTimeout,
		Slots: make(chan struct{}, maxBodies), SlotWait: bodyWait, Done: s.done,
		Commit: s.store.Commit,
	}
	s.query = cfg.query.handler()
	s.promql = newPromQL(cfg.promql, s.store, cfg.now)
	if cfg.dataDir != "" {
		rep, err := s.store.OpenLog(cfg.dataDir, cfg.syncInterval, cfg.messages())
		if err != nil {
			return nil, err
		}
		s.loaded = rep
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the server's HTTP handler: routing, authentication and
// the request log included. Serve applies timeouts against slow clients
// that a handler alone cannot, and serves the telnet-style lines, which
// are not HTTP.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves HTTP and OpenTSDB's telnet-style lines on l until Close,
// as OpenTSDB's port does: the first byte of a connection tells them apart
// (a lowercase letter: lines; see the package documentation). HTTP is served with timeouts against slow
// clients: 10 s for a request's headers (at most 64 KiB), 1 min of
// waiting for a put body, 1 min to take a response, 2 min idle between
// requests. Lines ("put <metric> <timestamp> <value> <k>=<v> ...") are
// judged and stored as the points of an HTTP put are, within bounds: 4
// KiB a line, 64 line connections, 10 min without a line. It closes l when
// it returns, and returns http.ErrServerClosed after Close.
func (s *Server) Serve(l net.Listener) error {
	hs := &http.Server{
		Handler: s.handler, ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
	}
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		l.Close()
		return http.ErrServerClosed
	default:
	}
	s.hs = append(s.hs, hs)
	s.mu.Unlock()
	return hs.Serve(s.newPortListener(l))
}

// Close stops the servers Serve runs, waits for the requests in flight to
// finish (at most 5 s), stores the lines that line connections have read
// and closes them and, with WithDataDir, flushes and closes the data
// directory's log. It is safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		close(s.done)
		hs := s.hs
		s.mu.Unlock()
		s.stopLines()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, h := range hs {
			if e := h.Shutdown(ctx); e != nil {
				h.Close()
				err = errors.Join(err, fmt.Errorf("stopping the HTTP server: %w", e))
			}
		}
		s.lineWG.Wait() // each commits what it has read, then ends
		s.store.Close()
	})
	return err
}

// storeBudget is the store's share of a memory budget (WithMaxMemory):
// three quarters.
func storeBudget(maxMemory int64) int64 { return maxMemory - maxMemory/4 }

// Stats counts what a Server holds and has done since it started.
type Stats struct {
	Points          int    // points stored now
	Series          int    // series stored now
	Bytes           int64  // bytes the points, series and tags stored take, as counted against three quarters of WithMaxMemory
	Accepted        uint64 // points accepted by puts: Points + EvictedByAge + EvictedByMemory
	EvictedByAge    uint64 // points evicted by WithRetention, including those too old on arrival
	EvictedByMemory uint64 // points evicted by WithMaxMemory
	Requests        uint64 // API requests received
	// With WithDataDir, what the directory held at the start: points
	// loaded; log records that damage made unreadable and the points they
	// held (those of a damaged part whose cost is unknown are not counted:
	// the start-up message says so); the bytes moved aside into .corrupt
	// files in the directory.
	Loaded      int
	LostRecords int
	LostPoints  int64
	MovedAside  int64
}

// Stats returns the counts of what the server holds and has done. Its
// cost is constant.
func (s *Server) Stats() Stats {
	st := s.store.Stats()
	return Stats{
		Points: st.Points, Series: st.Series, Bytes: st.Bytes, Accepted: st.Accepted,
		EvictedByAge: st.EvictedByAge, EvictedByMemory: st.EvictedByMemory,
		Requests: s.reqs.Count(),
		Loaded:   s.loaded.Points, LostRecords: s.loaded.LostRecords, LostPoints: s.loaded.LostPoints, MovedAside: s.loaded.Aside,
	}
}

// SeriesInfo describes one stored series.
type SeriesInfo struct {
	Metric    string
	Tags      map[string]string // a copy
	Points    int               // points stored (two at the same timestamp count twice)
	First     time.Time         // timestamp of the oldest point, UTC
	Last      time.Time         // timestamp of the newest point, UTC
	LastValue float64           // value at Last (of several points there, the last to arrive)
}

// Series returns every stored series, sorted by metric, then by tags. It
// copies the tags, not the points: its cost is proportional to the number
// of series, plus the decoding of each one's last chunk.
func (s *Server) Series() []SeriesInfo {
	type entry struct {
		info SeriesInfo
		key  string
	}
	var es []entry
	s.store.Read(func(r store.Reader) {
		r.EachSeries("", nil, func(v store.View) bool {
			ms, val := v.Last()
			tags := v.Tags().Map()
			es = append(es, entry{SeriesInfo{
				Metric: v.Metric(), Tags: tags, Points: v.Len(),
				First: time.UnixMilli(v.First()).UTC(), Last: time.UnixMilli(ms).UTC(), LastValue: val,
			}, ql.TagKey(tags)})
			return true
		})
	})
	sort.Slice(es, func(i, j int) bool {
		if es[i].info.Metric != es[j].info.Metric {
			return es[i].info.Metric < es[j].info.Metric
		}
		return es[i].key < es[j].key
	})
	out := make([]SeriesInfo, len(es))
	for i, e := range es {
		out[i] = e.info
	}
	return out
}
