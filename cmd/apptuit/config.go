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

// EnvEndpoint names the environment variable the command (not the library)
// reads for the API's base URL when --endpoint is not given.
const EnvEndpoint = "APPTUIT_API_ENDPOINT"

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
	fs.StringVar(&c.token, "token", "", "API `token` (default $"+apptuit.EnvToken+", else $"+apptuit.EnvTokenPy+")")
	fs.DurationVar(&c.timeout, "timeout", apptuit.DefaultTimeout, "timeout of each HTTP request")
	if withTags {
		fs.Var(&c.tags, "tag", "global tag `k=v` added to every point, repeatable (default $"+apptuit.EnvTags+")")
	}
}

// client builds an apptuit.Client: flags first, then the environment, then
// the library's defaults.
func (c *clientFlags) client(extra ...apptuit.Option) (*apptuit.Client, error) {
	opts := []apptuit.Option{apptuit.WithTimeout(c.timeout), apptuit.WithUserAgent("apptuit-cli/" + apptuit.Version)}
	endpoint := c.endpoint
	if endpoint == "" {
		endpoint = os.Getenv(EnvEndpoint)
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
		return nil, fmt.Errorf("no API token: pass --token or set %s", apptuit.EnvToken)
	}
	return cl, err
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
// done with exitOK; on a bad flag it prints the error and the usage to
// stderr and returns done with exitUsage.
func parseFlags(fs *flag.FlagSet, cmd string, args []string, stdout, stderr io.Writer) (pos []string, code int, done bool) {
	fs.SetOutput(stderr)
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, cmd, fs)
			return nil, exitOK, true
		}
		if err != nil {
			printUsage(stderr, cmd, fs)
			return nil, exitUsage, true
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

// usageError prints msg and the usage of cmd to stderr and returns exitUsage.
func usageError(stderr io.Writer, cmd string, fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(stderr, "apptuit %s: %s\n", cmd, fmt.Sprintf(format, a...))
	printUsage(stderr, cmd, fs)
	return exitUsage
}

// isTerminal reports whether f is a character device such as a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	fi, err := file.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
