package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
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

// clientFlags are the flags of the subcommands that talk to an API.
type clientFlags struct {
	endpoint string
	token    string
	tags     tagFlag
	timeout  time.Duration
}

func (c *clientFlags) register(fs *flag.FlagSet, withTags bool) {
	fs.StringVar(&c.endpoint, "endpoint", "", "base `URL` of the API (default $"+EnvEndpoint+", else "+apptuit.DefaultEndpoint+")")
	fs.StringVar(&c.token, "token", "", "API `token` (default $"+apptuit.EnvToken+", else $"+apptuit.EnvTokenPy+"; without one, no Authorization header is sent, which only an endpoint other than Apptuit's takes)")
	fs.DurationVar(&c.timeout, "timeout", apptuit.DefaultTimeout, "timeout of each HTTP request (0: none)")
	if withTags {
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
	e := strings.TrimSpace(endpoint)
	if e != "" && !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
		return "", &flagError{fmt.Sprintf("%s %q: want an http:// or https:// URL", from, endpoint)}
	}
	return e, nil
}

// client builds an apptuit.Client: flags first, then the environment, then
// the library's defaults. Without a token from --token or the environment,
// the client sends none (apptuit.WithNoAuth), unless the endpoint is
// Apptuit's, which needs one. An error is a *flagError or one of
// apptuit.New's; clientError prints either.
func (c *clientFlags) client(extra ...apptuit.Option) (*apptuit.Client, error) {
	if c.timeout < 0 {
		return nil, &flagError{fmt.Sprintf("--timeout %v: want a duration of 0 (no bound) or more", c.timeout)}
	}
	opts := []apptuit.Option{apptuit.WithTimeout(c.timeout), apptuit.WithUserAgent("apptuit-cli/" + apptuit.Version)}
	endpoint, err := c.endpointURL()
	if err != nil {
		return nil, err
	}
	if endpoint != "" {
		opts = append(opts, apptuit.WithEndpoint(endpoint))
	}
	if c.token != "" {
		opts = append(opts, apptuit.WithToken(c.token))
	}
	if len(c.tags) > 0 {
		opts = append(opts, apptuit.WithGlobalTags(map[string]string(c.tags)))
	}
	opts = append(opts, extra...)
	cl, err := apptuit.New(opts...)
	if err != nil && c.token == "" && errors.Is(err, apptuit.ErrNoToken) {
		cl, err = apptuit.New(append(opts, apptuit.WithNoAuth())...)
		if errors.Is(err, apptuit.ErrNoToken) {
			if endpoint == "" {
				endpoint = apptuit.DefaultEndpoint
			}
			return nil, &flagError{fmt.Sprintf("no API token: pass --token or set %s (%s needs one)", apptuit.EnvToken, endpoint)}
		}
	}
	return cl, err
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
	fmt.Fprintln(stderr, err)
	return exitUsage
}

// tagFlag collects repeated --tag k=v flags.
type tagFlag map[string]string

func (t *tagFlag) String() string {
	if t == nil || len(*t) == 0 {
		return ""
	}
	keys := make([]string, 0, len(*t))
	for k := range *t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + (*t)[k]
	}
	return strings.Join(parts, ",")
}

func (t *tagFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return errors.New("want k=v with a non-empty key and value")
	}
	if *t == nil {
		*t = make(tagFlag)
	}
	(*t)[k] = v
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
// returns done with exitUsage.
func parseFlags(fs *flag.FlagSet, cmd string, args []string, stdout, stderr io.Writer) (pos []string, code int, done bool) {
	fs.SetOutput(io.Discard) // the error is printed below, once
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, cmd, fs)
			return nil, exitOK, true
		}
		if err != nil {
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
