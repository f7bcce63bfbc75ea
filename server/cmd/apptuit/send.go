package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
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
APPTUIT_TAGS). A malformed line, or one over 1 MiB, is reported on standard
error with its line number (a malformed JSON element with its line, column
and number) and skipped; the good points are still sent, in batches of
--batch points. Broken JSON ends the reading at the line and column where it
breaks; what was read before is sent. Points the server
refuses are listed and the next batches still go; any other failure (no
answer, 401, 404, a 429 or 5xx after the client's retries) stops the
command: the rest of the input is not read. Without --token or
APPTUIT_API_TOKEN, no Authorization header is sent (for a server without
authentication; Apptuit's endpoint needs a token).

When standard error is a terminal, a progress line shows the points sent
and the rate, redrawn at most four times a second, and a request unanswered
for a few seconds is named with how to change --timeout; a summary line
with the final rate is always printed at the end. Ctrl-C (SIGINT) stops the
command at once, also while it reads the terminal or waits for the server:
the points not yet sent are counted as not delivered. The exit status is 0
when every point was read and accepted, 1 when a line was malformed, the
server refused a point or the send failed, 2 on a usage error, 130 when
interrupted (143 for SIGTERM).`,
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
	intVar(fs, &o.batch, "batch", apptuit.DefaultBatchSize, 1, 0, "a number of points, 1 or more", "`points` per request")
	intVar(fs, &o.maxErrors, "max-errors", 100, 0, 0, "a number, 0 (all) or more", "print at most `N` malformed lines and refused points of each kind (0: all)")
	return fs, o
}

// progressEvery is how often, at most, the progress line is redrawn.
const progressEvery = 250 * time.Millisecond

// sender batches points and sends them, keeping the counts.
type sender struct {
	ctx       context.Context
	client    *apptuit.Client
	flags     *clientFlags
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
	interrupted  bool  // a signal stopped the command
}

func (s *sender) reportBad(e *inputError) {
	s.malformed++
	if s.maxErrors <= 0 || s.malformed <= s.maxErrors {
		s.clearProgress()
		fmt.Fprintf(s.stderr, "%v\n", e)
	}
}

func (s *sender) add(p inputPoint) error {
	if len(p.Tags) == 0 && len(s.client.GlobalTags()) == 0 {
		s.reportBad(s.badPoint(p, "no tags: a point needs at least one tag (give it tags, or pass --tag or set "+apptuit.EnvTags+")"))
		return nil
	}
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
	return &inputError{at: p.at, msg: escapeText(msg), text: p.text}
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
		err := s.flags.await(s.stderr, "send", s.client.Endpoint()+"/api/put", func() error { return s.client.Send(s.ctx, s.dps) })
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
	hint := se.Hint
	if se.StatusCode == http.StatusRequestEntityTooLarge {
		// The library's hint names its option for the smallest split.
		hint = "too large for the server even after splitting the batch"
	}
	msg := se.Message
	if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(msg, strconv.Itoa(se.StatusCode))), http.StatusText(se.StatusCode)) {
		msg = "" // says no more than the status
	}
	if msg != "" || hint != "" {
		if hint != "" {
			if msg != "" {
				msg += "; "
			}
			msg += hint
		}
		fmt.Fprintf(s.stderr, "apptuit send: the server refused %s (%d %s): %s\n", pointsN(se.Failed), se.StatusCode, http.StatusText(se.StatusCode), clipText(msg))
	}
	for _, pe := range se.Errors {
		s.shown++
		if s.maxErrors <= 0 || s.shown <= s.maxErrors {
			fmt.Fprintf(s.stderr, "refused: %s: %s\n", clipText(pe.Message), clipText(pe.Datapoint.String()))
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
	switch {
	case s.interrupted:
		b.WriteString("; interrupted: the rest of the input was not read")
	case s.unread:
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
	client, err := o.client(apptuit.WithBatchSize(o.batch))
	if err != nil {
		return clientError(stderr, "send", err)
	}
	in, name := stdin, "standard input"
	if len(pos) == 1 && pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			fmt.Fprintf(stderr, "apptuit send: %v\n", escapeText(err.Error()))
			return exitFail
		}
		defer f.Close()
		in, name = f, quoteArg(pos[0])
	}
	if in == stdin && isTerminal(stdin) {
		fmt.Fprintln(stderr, "reading points from the terminal; end with Ctrl-D, stop with Ctrl-C")
	}
	s := &sender{
		ctx: ctx, client: client, flags: &o.clientFlags, batchSize: o.batch,
		stderr: stderr, progress: isTerminal(stderr), maxErrors: o.maxErrors,
		start: time.Now(),
	}
	return s.finish(readPoints(ctxReader{ctx, in}, s.add, s.reportBad), name)
}

// finish sends what is left after the input was read (err: why reading
// stopped, if not at its end), prints what went wrong and the summary, and
// returns the exit status.
func (s *sender) finish(err error, name string) int {
	ctx, stderr := s.ctx, s.stderr
	if s.fatal != nil && errors.Is(err, s.fatal) {
		s.unread, err = true, nil
	}
	if s.fatal == nil && ctx.Err() == nil {
		// Send what was read, even when reading stopped at an error.
		_ = s.flush()
	}
	s.clearProgress()
	if code, ok := interrupted(ctx); ok {
		// Stopped by Ctrl-C or SIGTERM: say what was done and go.
		s.interrupted = true
		s.undelivered += len(s.batch)
		if isTerminal(stderr) {
			fmt.Fprintln(stderr) // after the terminal's echo of Ctrl-C
		}
		fmt.Fprintln(stderr, s.summary())
		return code
	}
	if s.maxErrors > 0 && s.malformed > s.maxErrors {
		fmt.Fprintf(stderr, "(%d more malformed lines not shown)\n", s.malformed-s.maxErrors)
	}
	if s.maxErrors > 0 && s.shown > s.maxErrors {
		fmt.Fprintf(stderr, "(%d more refused points not shown)\n", s.shown-s.maxErrors)
	}
	if s.fatal != nil {
		fmt.Fprintln(stderr, s.flags.explain(s.fatal)) // the library's errors say "apptuit: send: …"
	} else if err != nil {
		fmt.Fprintf(stderr, "apptuit send: reading %s: %s\n", name, escapeText(err.Error()))
	}
	fmt.Fprintln(stderr, s.summary())
	if s.fatal != nil || err != nil || s.refused > 0 || s.malformed > 0 {
		return exitFail
	}
	return exitOK
}
