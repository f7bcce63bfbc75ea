package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/apptuit-go/apptuit"
)

// command describes a subcommand for dispatch and help.
type command struct {
	name     string
	summary  string
	synopsis string
	about    string
	examples string
	flags    func() *flag.FlagSet // the subcommand's flags, for help
	run      func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

var commands []*command

func init() {
	commands = []*command{serveCmd, sendCmd, queryCmd, demoCmd}
}

func findCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

const mainAbout = `apptuit sends metrics to Apptuit.AI or an OpenTSDB-compatible backend,
queries them back, and runs a local backend with the Apptuit API and PromQL.

Usage:

  apptuit <command> [flags] [arguments]

Commands:
`

const mainEnv = `
Environment:

  APPTUIT_API_ENDPOINT  base URL of the API (default https://api.apptuit.ai);
                        read by this command only, --endpoint overrides it
  APPTUIT_API_TOKEN     API token (else APPTUIT_PY_TOKEN); --token overrides it;
                        without one no Authorization header is sent (not for
                        Apptuit's endpoint, which needs one)
  APPTUIT_PROMQL_PATH   path of the PromQL range API for query --promql
                        (default /prometheus/api/v1/query_range; plain
                        Prometheus: /api/v1/query_range); read by this
                        command only, --promql-path overrides it
  APPTUIT_TAGS          global tags "k1: v1, k2: v2" added to every point sent
                        (else APPTUIT_PY_TAGS); --tag overrides them

Run "apptuit <command> --help" for a command's flags and examples.
`

func printMainUsage(w io.Writer) {
	fmt.Fprint(w, mainAbout)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-8s %s\n", "help", "show the help of a command")
	fmt.Fprintf(w, "  %-8s %s\n", "version", "print the version")
	fmt.Fprint(w, mainEnv)
}

// printUsage prints the help of subcommand cmd, with the flags of fs.
func printUsage(w io.Writer, cmd string, fs *flag.FlagSet) {
	c := findCommand(cmd)
	if c == nil {
		printMainUsage(w)
		return
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", c.synopsis, strings.TrimRight(c.about, "\n"))
	if fs == nil {
		fs = c.flags()
	}
	fmt.Fprint(w, "\nFlags:\n")
	var b strings.Builder
	out := fs.Output()
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(out)
	// Show the flags as --name; -name works too.
	fmt.Fprint(w, strings.ReplaceAll("\n"+b.String(), "\n  -", "\n  --")[1:])
	fmt.Fprintf(w, "\nExamples:\n\n%s\n", strings.TrimRight(c.examples, "\n"))
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

// run runs the command line args (without the program name) and returns
// the exit status: 0 success, 1 failure, 2 usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printMainUsage(stderr)
		return exitUsage
	}
	switch name := args[0]; name {
	case "-h", "-help", "--help", "help":
		if name != "help" || len(args) == 1 {
			printMainUsage(stdout)
			return exitOK
		}
		topic := args[1]
		switch {
		case len(args) > 2:
			return usageError(stderr, "help", nil, "want at most one command, got %d arguments", len(args)-1)
		case isHelpFlag(topic) || topic == "help":
			printMainUsage(stdout)
			return exitOK
		case findCommand(topic) != nil:
			printUsage(stdout, topic, nil)
			return exitOK
		}
		fmt.Fprintf(stderr, "apptuit help: unknown command %q\nsee 'apptuit --help'\n", topic)
		return exitUsage
	case "-version", "--version", "version":
		fmt.Fprintf(stdout, "apptuit %s\n", apptuit.Version)
		return exitOK
	default:
		c := findCommand(name)
		if c == nil {
			fmt.Fprintf(stderr, "apptuit: unknown command %q\nsee 'apptuit --help'\n", name)
			return exitUsage
		}
		return c.run(ctx, args[1:], stdin, stdout, stderr)
	}
}
