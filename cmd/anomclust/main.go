// Command anomclust groups images of defective products into clusters of
// defect types (Anomaly Clustering, Sohn et al., WACV 2023).
//
// This package only parses flags and calls the library; each subcommand lives
// in its own file and registers itself in init.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/anomclust/anomclust/internal/isa"
)

// version is set at build time with -ldflags "-X main.version=..."; "dev" otherwise.
var version = "dev"

// command is one subcommand: its name, a one-line summary, and the function
// that parses its arguments and runs it.
type command struct {
	name    string
	summary string
	run     func(args []string) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("duplicate command " + c.name)
	}
	commands[c.name] = c
}

// errUsage reports a usage error already explained to the user.
var errUsage = errors.New("usage error")

func main() {
	stop := startProfile()
	code := runMain(os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func runMain(args []string, stdout, stderr io.Writer) int {
	cliStdout, cliStderr = stdout, stderr
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				_ = c.run([]string{"-h"})
				return 0
			}
		}
		usage(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "anomclust: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return exitCode(stderr, c.name, c.run(args[1:]))
}

// exitCode reports the error of command name on stderr and returns the
// process's exit code: 0 on success or -h; 2 for a usage error (already
// explained); for a run cancelled by a signal, whatever command it was,
// 128 + the signal as shells report it (130 for Ctrl-C, 143 for SIGTERM;
// see signals.go); 1 for any other error.
func exitCode(stderr io.Writer, name string, err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "anomclust %s: interrupted\n", name)
		return interruptedCode()
	}
	// Library errors start with their package's name, which may be the
	// command's ("synth: ..."): say it once.
	msg := strings.TrimPrefix(err.Error(), name+": ")
	fmt.Fprintf(stderr, "anomclust %s: %s\n", name, msg)
	return 1
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "anomclust %s: group images of defects into clusters of defect types.\n\n", version)
	fmt.Fprintf(w, "Usage: anomclust <command> [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'anomclust <command> -h' for the flags of a command.\n")
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func init() {
	register(command{name: "version", summary: "print the version", run: func(args []string) error {
		fs := newFlags("version", "")
		if err := fs.Parse(args); err != nil {
			return err
		}
		fmt.Println("anomclust", moduleVersion())
		fmt.Println(runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
		fmt.Println(isa.Describe())
		return nil
	}})
}

// moduleVersion is the -ldflags version if set, else the module version and
// VCS revision the binary was built from (go install records them).
func moduleVersion() string {
	if version != "dev" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v += " " + s.Value[:min(12, len(s.Value))]
		case "vcs.modified":
			if s.Value == "true" {
				v += " (modified)"
			}
		}
	}
	return v
}
