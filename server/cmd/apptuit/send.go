package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
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
points are still sent, in batches of --batch points. Points the server
refuses are listed and the next batches still go; any other failure (no
answer, 401, 404, a 429 or 5xx after the client's retries) stops the
command: the rest of the input is not read. Without --token or
APPTUIT_API_TOKEN, no Authorization header is sent (for a server without
authentication; Apptuit's endpoint needs a token).

When standard error is a terminal, a progress line shows the points sent
and the rate, redrawn at most four times a second; a summary line with the
final rate is always printed at the end. The exit status is 0 when every
point was read and accepted, 1 when a line was malformed, the server
refused a point or the send failed, 2 on a usage error.`,
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
	fs.IntVar(&o.batch, "batch", apptuit.DefaultBatchSize, "points per request")
	fs.IntVar(&o.maxErrors, "max-errors", 100, "print at most this many malformed lines and refused points of each kind (0: all)")
	return fs, o
}

// progressEvery is how often, at most, the progress line is redrawn.
const progressEvery = 250 * time.Millisecond

// sender batches points and sends them, keeping the counts.
type sender struct {
	ctx       context.Context
	client    *apptuit.Client
	batchSize int
	stderr    io.Writer
	progress  bool // stderr is a terminal: show a progress line
	maxErrors int

	batch        []inputPoint
	dps          []apptuit.DataPoint
	start        time.Time
	lastProgress time.Time
	drawn        bool // the progress line is on the screen
	accepted     int  // points the server took
	refused      int  // points the server refused (400, 413 at the smallest split)
	undelivered  int  // points of the batch that failed
	malformed    int
	shown        int   // point refusals printed or counted
	fatal        error // the failure that stopped sending
	unread       bool  // fatal came before the end of the input
}

func (s *sender) reportBad(e *inputError) {
	s.malformed++
	if s.maxErrors <= 0 || s.malformed <= s.maxErrors {
		s.clearProgress()
		fmt.Fprintf(s.stderr, "%v\n", e)
	}
}

func (s *sender) add(p inputPoint) error {
	// The client's own rules, for one point, so that a bad point is
	// reported with its line instead of failing its whole batch.
	var ve *apptuit.ValidationError
	if err := s.client.ValidateMetric(p.Metric, p.Tags); errors.As(err, &ve) {
		s.reportBad(s.badPoint(p, ve.Rule))
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
	return &inputError{what: what, pos: p.pos, msg: msg, text: p.text}
}

// flush sends the batch. It returns an error only when sending cannot go
// on: a failure that is not the server refusing points (retryable ones
// after the client's retries) stops the command, as sending the next
// batches would only fail the same way.
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
			s.accepted += len(s.batch)
		case errors.As(err, &se):
			s.accepted += se.Success
			s.refused += se.Failed
			s.printRefusal(se)
		default:
			s.undelivered += len(s.batch)
			s.fatal = err
			s.batch = s.batch[:0]
			return err
		}
		s.batch = s.batch[:0]
		s.showProgress(false)
	}
	return nil
}

// printRefusal prints the server's message about refused points, if it sent
// one, and one line per point it named.
func (s *sender) printRefusal(se *apptuit.SendError) {
	s.clearProgress()
	if se.Message != "" || se.Hint != "" {
		msg := se.Message
		if se.Hint != "" {
			if msg != "" {
				msg += "; "
			}
			msg += se.Hint
		}
		fmt.Fprintf(s.stderr, "apptuit send: the server refused %s (%d %s): %s\n", pointsN(se.Failed), se.StatusCode, http.StatusText(se.StatusCode), msg)
	}
	for _, pe := range se.Errors {
		s.shown++
		if s.maxErrors <= 0 || s.shown <= s.maxErrors {
			fmt.Fprintf(s.stderr, "refused: %s: %s\n", pe.Message, pe.Datapoint)
		}
	}
}

func (s *sender) sent() int { return s.accepted + s.refused }

// rate is the points sent per second so far.
func (s *sender) rate() float64 {
	if e := time.Since(s.start).Seconds(); e > 0 {
		return float64(s.sent()) / e
	}
	return 0
}

// showProgress redraws the progress line on a terminal, at most every
// progressEvery unless force.
func (s *sender) showProgress(force bool) {
	if !s.progress {
		return
	}
	now := time.Now()
	if !force && now.Sub(s.lastProgress) < progressEvery {
		return
	}
	s.lastProgress, s.drawn = now, true
	fmt.Fprintf(s.stderr, "\r\x1b[Ksent %d points (%d refused), %.0f points/s", s.sent(), s.refused, s.rate())
}

// clearProgress erases the progress line before other output.
func (s *sender) clearProgress() {
	if s.drawn {
		fmt.Fprint(s.stderr, "\r\x1b[K")
		s.drawn = false
	}
}

// pointsN is "1 point" or "n points".
func pointsN(n int) string {
	if n == 1 {
		return "1 point"
	}
	return fmt.Sprintf("%d points", n)
}

// summary is the last line: what was sent, how fast, and what was not.
func (s *sender) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sent %s in %.2f s (%.0f points/s)", pointsN(s.sent()), time.Since(s.start).Seconds(), s.rate())
	var parts []string
	if s.refused > 0 {
		parts = append(parts, fmt.Sprintf("%d accepted, %d refused", s.accepted, s.refused))
	}
	if s.undelivered > 0 {
		parts = append(parts, fmt.Sprintf("%d not delivered", s.undelivered))
	}
	if len(parts) > 0 {
		b.WriteString(": " + strings.Join(parts, ", "))
	}
	if s.malformed > 0 {
		fmt.Fprintf(&b, "; %d malformed skipped", s.malformed)
	}
	if s.unread {
		b.WriteString("; stopped at the failed batch: the rest of the input was not read")
	}
	return b.String()
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
	if o.maxErrors < 0 {
		return usageError(stderr, "send", fs, "--max-errors %d: want 0 (all) or more", o.maxErrors)
	}
	client, err := o.client(apptuit.WithBatchSize(o.batch))
	if err != nil {
		return clientError(stderr, "send", err)
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
	s := &sender{
		ctx: ctx, client: client, batchSize: o.batch,
		stderr: stderr, progress: isTerminal(stderr), maxErrors: o.maxErrors,
		start: time.Now(),
	}
	err = readPoints(in, s.add, s.reportBad)
	if s.fatal != nil && errors.Is(err, s.fatal) {
		s.unread, err = true, nil
	}
	if s.fatal == nil {
		// Send what was read, even when reading stopped at an error.
		_ = s.flush()
	}
	s.clearProgress()
	if s.maxErrors > 0 && s.malformed > s.maxErrors {
		fmt.Fprintf(stderr, "(%d more malformed lines not shown)\n", s.malformed-s.maxErrors)
	}
	if s.maxErrors > 0 && s.shown > s.maxErrors {
		fmt.Fprintf(stderr, "(%d more refused points not shown)\n", s.shown-s.maxErrors)
	}
	if s.fatal != nil {
		fmt.Fprintln(stderr, s.fatal) // the library's errors say "apptuit: send: …"
	} else if err != nil {
		fmt.Fprintf(stderr, "apptuit send: reading %s: %v\n", name, err)
	}
	fmt.Fprintln(stderr, s.summary())
	if s.fatal != nil || err != nil || s.refused > 0 || s.malformed > 0 {
		return exitFail
	}
	return exitOK
}
