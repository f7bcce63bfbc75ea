package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apptuit-go/apptuit"
)

// Environment variables the command (not the library) reads: the API's
// base URL when --endpoint is not given, and the PromQL path when
// --promql-path is not.
const (
	EnvEndpoint   = "APPTUIT_API_ENDPOINT"
	EnvPromQLPath = "APPTUIT_PROMQL_PATH"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// clientFlags are the flags of the subcommands that talk to an API, and
// what client learned from them and the environment.
type clientFlags struct {
	endpoint string
	token    string
	tags     tagFlag
	timeout  time.Duration

	tokenFrom string // where the token sent came from: "--token", a variable, or "" for none
	noticed   bool   // the waiting line of await was printed
}

func (c *clientFlags) register(fs *flag.FlagSet, withTags bool) {
	fs.StringVar(&c.endpoint, "endpoint", "", "base `URL` of the API (default $"+EnvEndpoint+", else "+apptuit.DefaultEndpoint+")")
	fs.StringVar(&c.token, "token", "", "API `token` (default $"+apptuit.EnvToken+", else $"+apptuit.EnvTokenPy+"; without one, no Authorization header is sent, which only an endpoint other than Apptuit's takes)")
	durationVar(fs, &c.timeout, "timeout", apptuit.DefaultTimeout, "timeout of each HTTP request, a `duration` such as 10s or 2m (0: none)")
	if withTags {
		c.tags.name = "tag"
		fs.Var(&c.tags, "tag", "global tag `k=v` added to every point, repeatable (default $"+apptuit.EnvTags+")")
	}
}

// endpointURL returns the endpoint the flags and the environment select
// ("" for the library's default), or an error for one that is not an http
// or https URL.
func (c *clientFlags) endpointURL() (string, error) {
	endpoint, from := c.endpoint, "--endpoint"
	if endpoint == "" {
		endpoint, from = os.Getenv(EnvEndpoint), EnvEndpoint
	}
	e := strings.TrimRight(strings.TrimSpace(endpoint), "/")
	if e == "" {
		return "", nil
	}
	if u, err := url.Parse(e); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || !strings.HasPrefix(e, u.Scheme+"://") {
		return "", &flagError{fmt.Sprintf("%s %s: want an http:// or https:// URL", from, quoteArg(endpoint))}
	}
	return e, nil
}

// client builds an apptuit.Client: flags first, then the environment, then
// the library's defaults. Without a token from --token or the environment,
// the client sends none (apptuit.WithNoAuth), unless the endpoint is
// Apptuit's, which needs one. An error is a *flagError or one of
// apptuit.New's; clientError prints either. This is the one place the
// command turns its flags into the library's options.
func (c *clientFlags) client(extra ...apptuit.Option) (*apptuit.Client, error) {
	opts := []apptuit.Option{apptuit.WithTimeout(c.timeout), apptuit.WithUserAgent("apptuit-cli/" + apptuit.Version)}
	endpoint, err := c.endpointURL()
	if err != nil {
		return nil, err
	}
	if endpoint != "" {
		opts = append(opts, apptuit.WithEndpoint(endpoint))
	}
	c.tokenFrom = ""
	switch {
	case c.token != "":
		opts = append(opts, apptuit.WithToken(c.token))
		c.tokenFrom = "--token"
	case os.Getenv(apptuit.EnvToken) != "":
		c.tokenFrom = apptuit.EnvToken
	case os.Getenv(apptuit.EnvTokenPy) != "":
		c.tokenFrom = apptuit.EnvTokenPy
	}
	if len(c.tags.m) > 0 {
		if err := c.checkTags(); err != nil {
			return nil, err
		}
		opts = append(opts, apptuit.WithGlobalTags(c.tags.m))
	}
	opts = append(opts, extra...)
	if c.tokenFrom == "" {
		opts = append(opts, apptuit.WithNoAuth())
	}
	cl, err := apptuit.New(opts...)
	if errors.Is(err, apptuit.ErrNoToken) {
		if endpoint == "" {
			endpoint = apptuit.DefaultEndpoint
		}
		return nil, &flagError{fmt.Sprintf("no API token: pass --token or set %s (%s needs one)", apptuit.EnvToken, endpoint)}
	}
	return cl, err
}

// checkTags checks the --tag flags by the library's rules, so that a bad
// one is reported as the flag's, not as an option's.
func (c *clientFlags) checkTags() error {
	if len(c.tags.m) > apptuit.MaxTags {
		return &flagError{fmt.Sprintf("--tag: %d tags, at most %d are allowed", len(c.tags.m), apptuit.MaxTags)}
	}
	probe, err := apptuit.New(apptuit.WithNoAuth(), apptuit.WithEndpoint("http://127.0.0.1"), apptuit.WithIgnoreEnvTags())
	if err != nil {
		return err
	}
	var ve *apptuit.ValidationError
	if err := probe.ValidateMetric("m", c.tags.m); errors.As(err, &ve) {
		return &flagError{"--tag: " + ve.Rule}
	}
	return nil
}

// flagError is a flag or variable the command cannot use, worded for the
// command's user.
type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }

// clientError prints an error of clientFlags.client once and returns
// exitUsage: a *flagError as a usage error, the library's own errors as
// they are (they start "apptuit: ").
func clientError(stderr io.Writer, cmd string, err error) int {
	var fe *flagError
	if errors.As(err, &fe) {
		return usageError(stderr, cmd, nil, "%s", fe.msg)
	}
	fmt.Fprintln(stderr, escapeText(err.Error()))
	return exitUsage
}

// explain words err, from the client's Send, Query or QueryRange, for the
// command's user, on one line or more with no control characters. The
// library's typed errors are read with errors.As and errors.Is; where its
// own words would name one of its Go options, the flag or environment
// variable that sets the same thing is named instead.
func (c *clientFlags) explain(err error) string {
	var (
		he *apptuit.HTTPError
		ne *apptuit.NetworkError
		te *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &he) && he.StatusCode == http.StatusUnauthorized:
		msg := fmt.Sprintf("apptuit: %s: %sthe API token from %s was rejected (401 Unauthorized)", he.Op, notDelivered(he.Undelivered, he.Total), c.tokenFrom)
		if c.tokenFrom == "" {
			msg = fmt.Sprintf("apptuit: %s: %sthe server wants an API token (401 Unauthorized) and none was sent: pass --token or set %s", he.Op, notDelivered(he.Undelivered, he.Total), apptuit.EnvToken)
		}
		if he.Message != "" && !strings.EqualFold(he.Message, http.StatusText(he.StatusCode)) {
			msg += ": " + clipText(he.Message)
		}
		return escapeText(msg)
	case errors.As(err, &ne) && errors.Is(ne.Err, context.DeadlineExceeded):
		return escapeText(fmt.Sprintf("apptuit: %s: %sno answer within --timeout %s (%s): pass a longer --timeout, or check that %s answers",
			ne.Op, notDelivered(ne.Undelivered, ne.Total), formatDuration(c.timeout), attemptsN(ne.Attempts), c.shownEndpoint()))
	case errors.Is(err, apptuit.ErrResponseTooLarge):
		return fmt.Sprintf("apptuit: query: the answer is larger than %d MiB, the most this command reads: query a shorter time range (--start, --end) or fewer series", apptuit.DefaultMaxResponse>>20)
	case errors.As(err, &te):
		return escapeText(fmt.Sprintf("apptuit: query: the server's answer is not one this command reads: a JSON %s at %q, where another type belongs (check --endpoint, and --promql-path with --promql)", te.Value, te.Field))
	}
	return escapeText(err.Error())
}

// shownEndpoint is the endpoint the command talks to, for messages.
func (c *clientFlags) shownEndpoint() string {
	if e, err := c.endpointURL(); err == nil && e != "" {
		return e
	}
	return apptuit.DefaultEndpoint
}

// notDelivered is "N points not delivered: " (or "N of T points …"), or
// "" for a query (total 0), as the library words it.
func notDelivered(undelivered, total int) string {
	switch {
	case total == 0:
		return ""
	case undelivered == total:
		return pointsN(total) + " not delivered: "
	}
	return fmt.Sprintf("%d of %s not delivered: ", undelivered, pointsN(total))
}

func attemptsN(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// waitNoticeAfter is how long a request may go unanswered on a terminal
// before await says what the command is waiting for.
const waitNoticeAfter = 3 * time.Second

// await runs fn, a request to target (a URL). When stderr is a terminal and fn has
// not returned after waitNoticeAfter, it prints one line (once per
// command) saying what the command waits for and how to change --timeout.
func (c *clientFlags) await(stderr io.Writer, cmd, target string, fn func() error) error {
	if c.noticed || !isTerminal(stderr) {
		return fn()
	}
	done := make(chan struct{})
	t := time.AfterFunc(waitNoticeAfter, func() {
		defer close(done)
		limit := "no --timeout is set, so it waits as long as the server takes; set one with --timeout 30s"
		if c.timeout > 0 {
			limit = fmt.Sprintf("each attempt gives up after --timeout %s; change it with --timeout", formatDuration(c.timeout))
		}
		fmt.Fprintf(stderr, "\r\x1b[Kapptuit %s: waiting for %s to answer: %s; Ctrl-C stops\n", cmd, escapeText(target), limit)
	})
	err := fn()
	if !t.Stop() {
		<-done
		c.noticed = true
	}
	return err
}

// tagFlag collects repeated --tag k=v flags.
type tagFlag struct {
	flagValue
	m map[string]string
}

func (t *tagFlag) String() string {
	if t == nil || len(t.m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(t.m))
	for k := range t.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + t.m[k]
	}
	return strings.Join(parts, ",")
}

func (t *tagFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return t.fail(s, "want k=v with a non-empty key and value")
	}
	if t.m == nil {
		t.m = make(map[string]string)
	}
	t.m[k] = v
	return nil
}

// newFlagSet returns a FlagSet that prints nothing by itself: parseFlags
// prints the usage where it belongs.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments ("--"
// ends the flags). On -h/--help it prints the usage to stdout and returns
// done with exitOK; on a bad flag it prints the error (see usageError) and
// returns done with exitUsage: for a value that one of the command's flag
// types refused, its *valueError, which names the flag, the value and what
// is accepted.
func parseFlags(fs *flag.FlagSet, cmd string, args []string, stdout, stderr io.Writer) (pos []string, code int, done bool) {
	fs.SetOutput(io.Discard) // the error is printed below, once
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, cmd, fs)
			return nil, exitOK, true
		}
		if err != nil {
			// The flag package words the error itself, from the %v of the
			// Value's; the Value kept its own.
			fs.VisitAll(func(f *flag.Flag) {
				if v, ok := f.Value.(interface{ failed() error }); ok && v.failed() != nil {
					err = v.failed()
				}
			})
			return nil, usageError(stderr, cmd, fs, "%v", err), true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, exitOK, false
		}
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), exitOK, false
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError prints msg on one line and where to find the usage of cmd, to
// stderr, and returns exitUsage. (fs is unused: the help is not repeated.)
func usageError(stderr io.Writer, cmd string, fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(stderr, "apptuit %s: %s\nsee 'apptuit %s --help'\n", cmd, fmt.Sprintf(format, a...), cmd)
	return exitUsage
}

// valueError is a flag value the command cannot use. It reads
// "--batch abc: want a number of points, 1 or more": the flag, the value as
// typed, and what is accepted.
type valueError struct {
	flag, value string
	why         string // "want …", or what is wrong and what is wanted
}

func (e *valueError) Error() string {
	return fmt.Sprintf("--%s %s: %s", e.flag, quoteArg(e.value), e.why)
}

// flagValue is the part of the command's flag types that keeps the error
// of Set for parseFlags.
type flagValue struct {
	name string
	err  *valueError
}

func (f *flagValue) fail(value, why string) error {
	f.err = &valueError{flag: f.name, value: value, why: why}
	return f.err
}

func (f *flagValue) failed() error {
	if f.err == nil {
		return nil
	}
	return f.err
}

// durationFlag is a flag holding a duration as parseDuration reads it
// ("30s", "1h30m", "7d"); never negative.
type durationFlag struct {
	flagValue
	p *time.Duration
}

// durationVar defines a duration flag, as fs.DurationVar does, read with
// parseDuration.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var(&durationFlag{flagValue{name: name}, p}, name, usage)
}

func (f *durationFlag) String() string {
	if f == nil || f.p == nil {
		return "0" // the zero value, which help does not show as a default
	}
	return formatDuration(*f.p)
}

func (f *durationFlag) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return f.fail(s, err.Error())
	}
	*f.p = d
	return nil
}

// intFlag is a flag holding an integer from min to max (max 0: no bound).
type intFlag struct {
	flagValue
	p        *int
	min, max int
	want     string // what is accepted, e.g. "a number of points, 1 or more"
}

// intVar defines an integer flag that takes min to max (max 0: no upper
// bound) and says want when given anything else.
func intVar(fs *flag.FlagSet, p *int, name string, value, min, max int, want, usage string) {
	*p = value
	fs.Var(&intFlag{flagValue{name: name}, p, min, max, want}, name, usage)
}

func (f *intFlag) String() string {
	if f == nil || f.p == nil {
		return "0" // the zero value, which help does not show as a default
	}
	return strconv.Itoa(*f.p)
}

func (f *intFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < f.min || f.max > 0 && n > f.max {
		return f.fail(s, "want "+f.want)
	}
	*f.p = n
	return nil
}

// choiceFlag is a flag holding one of a few words.
type choiceFlag struct {
	flagValue
	p       *string
	choices []string
}

// choiceVar defines a flag that takes one of choices.
func choiceVar(fs *flag.FlagSet, p *string, name string, choices []string, usage string) {
	*p = choices[0]
	fs.Var(&choiceFlag{flagValue{name: name}, p, choices}, name, usage)
}

func (f *choiceFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

func (f *choiceFlag) Set(s string) error {
	if !slices.Contains(f.choices, s) {
		return f.fail(s, "want one of "+strings.Join(f.choices, ", "))
	}
	*f.p = s
	return nil
}
