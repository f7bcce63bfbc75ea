package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"
	"time"

	"github.com/apptuit-go/apptuit"
)

var sendCmd = &command{
	name:     "send",
	summary:  "send points from OpenTSDB telnet lines or JSON",
	synopsis: "apptuit send [--endpoint URL] [--token T] [--tag k=v]... [FILE|-]",
	about: `Send reads points from FILE (or standard input when FILE is "-" or absent)
and sends them to the API's /api/put in batches.

The input is either OpenTSDB telnet lines, one point per line:

  [put ]<metric> <timestamp> <value> [<k>=<v> ...]

with the timestamp in Unix seconds, in milliseconds (2^32 or more) or in
fractional seconds, blank lines and lines starting with '#' skipped; or, when
its first non-blank character is '[' or '{', a JSON array of points as
/api/put takes it (or one point object, or a stream of them):

  [{"metric": "m", "timestamp": 1700000000, "value": 1.5, "tags": {"k": "v"}}]

Every point needs at least one tag, its own or a global one (--tag or
APPTUIT_TAGS). A malformed line is reported on standard error with its line
number (a malformed JSON element with its position) and skipped; the good
points are still sent. While sending to a terminal, a progress line shows the
points sent and failed and the rate; a summary line is always printed at the
end. The exit status is 0 when every point was read and accepted, 1 when a
line was malformed or the server refused a point (its errors are listed) or
the send failed, 2 on a usage error.`,
	examples: `  apptuit send --endpoint http://127.0.0.1:4242 --token t points.txt
  echo 'put sys.cpu.user 1700000000 42.5 host=web1 cpu=0' | apptuit send --token t
  apptuit send --tag dc=eu --tag env=prod points.json
  APPTUIT_API_TOKEN=t apptuit send - < points.txt`,
	flags: func() *flag.FlagSet { fs, _ := sendFlags(); return fs },
	run:   runSend,
}

type sendOpts struct {
	clientFlags
	batch     int
	maxErrors int
}

func sendFlags() (*flag.FlagSet, *sendOpts) {
	o := &sendOpts{}
	fs := newFlagSet("send")
	o.register(fs, true)
	fs.IntVar(&o.batch, "batch", 10000, "points per request")
	fs.IntVar(&o.maxErrors, "max-errors", 100, "print at most this many malformed lines and refused points of each kind (0: all)")
	return fs, o
}

// sender batches points and sends them, keeping the counts.
type sender struct {
	ctx       context.Context
	client    *apptuit.Client
	global    map[string]string
	batchSize int
	stderr    io.Writer
	progress  bool
	maxErrors int

	batch     []inputPoint
	dps       []apptuit.DataPoint
	start     time.Time
	sent      int // points sent (accepted or refused by the server)
	failed    int // points the server refused
	malformed int
	refused   int // refusals printed or counted
	fatal     error
}

func (s *sender) reportBad(e *inputError) {
	s.malformed++
	if s.maxErrors <= 0 || s.malformed <= s.maxErrors {
		s.clearProgress()
		fmt.Fprintf(s.stderr, "%v\n", e)
	}
}

// check applies the client's rules to one point, so that one bad point is
// reported with its line instead of failing its whole batch.
func (s *sender) check(p *apptuit.DataPoint) error {
	tags := p.Tags
	if len(s.global) > 0 {
		tags = maps.Clone(s.global)
		maps.Copy(tags, p.Tags)
	}
	if len(tags) == 0 {
		return errors.New("no tags (a point needs at least one; see --tag)")
	}
	if len(tags) > apptuit.MaxTags {
		return fmt.Errorf("%d tags, at most %d are allowed", len(tags), apptuit.MaxTags)
	}
	if _, err := apptuit.NewTimeSeries(p.Metric, tags); err != nil {
		return err
	}
	return nil
}

func (s *sender) add(p inputPoint) error {
	if err := s.check(&p.DataPoint); err != nil {
		s.reportBad(s.badPoint(p, err.Error()))
		return nil
	}
	s.batch = append(s.batch, p)
	if len(s.batch) >= s.batchSize {
		return s.flush()
	}
	return nil
}

func (s *sender) badPoint(p inputPoint, msg string) *inputError {
	what := "line"
	if p.pos < 0 {
		what, p.pos = "point", -p.pos
	}
	return &inputError{what: what, pos: p.pos, msg: strings.TrimPrefix(msg, "apptuit: new time series: "), text: p.text}
}

// flush sends the batch. It returns an error only when sending cannot go on.
func (s *sender) flush() error {
	for len(s.batch) > 0 {
		s.dps = s.dps[:0]
		for _, p := range s.batch {
			s.dps = append(s.dps, p.DataPoint)
		}
		err := s.client.Send(s.ctx, s.dps)
		var ve *apptuit.ValidationError
		if errors.As(err, &ve) && ve.Index >= 0 && ve.Index < len(s.batch) {
			// Not sent at all: drop the point and send the rest.
			s.reportBad(s.badPoint(s.batch[ve.Index], ve.Rule))
			s.batch = append(s.batch[:ve.Index], s.batch[ve.Index+1:]...)
			continue
		}
		var se *apptuit.SendError
		switch {
		case err == nil:
		case errors.As(err, &se):
			s.failed += se.Failed
			s.clearProgress()
			if se.Message != "" {
				fmt.Fprintf(s.stderr, "server: %d points refused with status %d: %s\n", se.Failed, se.StatusCode, se.Message)
			}
			for _, pe := range se.Errors {
				s.refused++
				if s.maxErrors <= 0 || s.refused <= s.maxErrors {
					fmt.Fprintf(s.stderr, "refused: %s: %s\n", pe.Message, pe.Datapoint)
				}
			}
		default:
			s.fatal = err
			return err
		}
		s.sent += len(s.batch)
		s.batch = s.batch[:0]
		s.showProgress()
	}
	return nil
}

func (s *sender) elapsed() float64 { return time.Since(s.start).Seconds() }

func (s *sender) showProgress() {
	if !s.progress {
		return
	}
	rate := 0.0
	if e := s.elapsed(); e > 0 {
		rate = float64(s.sent) / e
	}
	fmt.Fprintf(s.stderr, "\r\x1b[Ksent %d points, %d failed, %.0f points/s", s.sent, s.failed, rate)
}

func (s *sender) clearProgress() {
	if s.progress {
		fmt.Fprint(s.stderr, "\r\x1b[K")
	}
}

func runSend(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs, o := sendFlags()
	pos, code, done := parseFlags(fs, "send", args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 1 {
		return usageError(stderr, "send", fs, "want at most one FILE, got %d arguments", len(pos))
	}
	if o.batch < 1 {
		return usageError(stderr, "send", fs, "--batch must be at least 1")
	}
	in, name := stdin, "standard input"
	if len(pos) == 1 && pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			fmt.Fprintf(stderr, "apptuit send: %v\n", err)
			return exitFail
		}
		defer f.Close()
		in, name = f, pos[0]
	}
	if in == stdin && isTerminal(stdin) {
		fmt.Fprintln(stderr, "reading points from the terminal; end with Ctrl-D")
	}
	client, err := o.client(apptuit.WithBatchSize(o.batch))
	if err != nil {
		fmt.Fprintf(stderr, "apptuit send: %v\n", err)
		return exitUsage
	}
	s := &sender{
		ctx: ctx, client: client, global: client.GlobalTags(), batchSize: o.batch,
		stderr: stderr, progress: isTerminal(stderr), maxErrors: o.maxErrors,
		start: time.Now(),
	}
	err = readPoints(in, s.add, s.reportBad)
	if s.fatal == nil {
		// Send what was read, even when reading stopped at an error.
		_ = s.flush()
	}
	s.clearProgress()
	if s.maxErrors > 0 && s.malformed > s.maxErrors {
		fmt.Fprintf(stderr, "(%d more malformed lines not shown)\n", s.malformed-s.maxErrors)
	}
	if s.maxErrors > 0 && s.refused > s.maxErrors {
		fmt.Fprintf(stderr, "(%d more refused points not shown)\n", s.refused-s.maxErrors)
	}
	fmt.Fprintf(stderr, "sent %d points (%d failed) in %.2f s", s.sent, s.failed, s.elapsed())
	if s.malformed > 0 {
		fmt.Fprintf(stderr, "; %d malformed skipped", s.malformed)
	}
	fmt.Fprintln(stderr)
	switch {
	case s.fatal != nil:
		fmt.Fprintf(stderr, "apptuit send: %v\n", s.fatal)
		return exitFail
	case err != nil:
		fmt.Fprintf(stderr, "apptuit send: reading %s: %v\n", name, err)
		return exitFail
	}
	if s.failed > 0 || s.malformed > 0 {
		return exitFail
	}
	return exitOK
}
