package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// cliStdout and cliStderr are where the commands' help and errors go
// (variables so that tests can catch them).
var (
	cliStdout io.Writer = os.Stdout
	cliStderr io.Writer = os.Stderr
)

// trackedWriter remembers whether anything was written through it.
type trackedWriter struct {
	w     io.Writer
	wrote bool
}

func (t *trackedWriter) Write(p []byte) (int, error) {
	t.wrote = true
	return t.w.Write(p)
}

// newFlags returns a FlagSet for a subcommand whose usage text lists its
// flags. Help asked for (-h, or `anomclust help CMD`) goes to stdout; the
// usage after an error message (a bad flag, usageError, needFlag) goes to
// stderr with the message.
func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	tw := &trackedWriter{w: cliStderr}
	fs.SetOutput(tw)
	fs.Usage = func() {
		out := fs.Output()
		if t, ok := out.(*trackedWriter); ok && !t.wrote {
			out = cliStdout // nothing went wrong before: help was asked for
		}
		fmt.Fprintf(out, "Usage: anomclust %s %s\n\nFlags:\n", name, synopsis)
		saved := fs.Output()
		fs.SetOutput(out)
		fs.PrintDefaults()
		fs.SetOutput(saved)
	}
	return fs
}

// usageError says what is wrong in one line ("anomclust CMD: ..."), then
// prints the usage, both on stderr, and returns errUsage.
func usageError(fs *flag.FlagSet, format string, a ...any) error {
	fmt.Fprintf(fs.Output(), "anomclust %s: %s\n", fs.Name(), fmt.Sprintf(format, a...))
	fs.Usage()
	return errUsage
}

// needFlag checks that a required flag was given (given) and that no
// positional arguments were; otherwise it says which in one line, prints
// the usage and returns errUsage. what names the flag, e.g. "--run DIR".
func needFlag(fs *flag.FlagSet, given bool, what string) error {
	if !given {
		return usageError(fs, "%s is required", what)
	}
	return noArgs(fs)
}

// noArgs refuses positional arguments (the command takes flags only).
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected argument %q: this command takes flags only", fs.Arg(0))
	}
	return nil
}

// bound is one size flag's value and its allowed range.
type bound struct {
	flag      string
	v, lo, hi int
}

// checkBounds refuses the first value outside its range, naming the flag,
// so that an absurd size fails at once instead of running out of memory.
func checkBounds(bs ...bound) error {
	for _, b := range bs {
		if b.v < b.lo || b.v > b.hi {
			return fmt.Errorf("%s %d: want %d to %d", b.flag, b.v, b.lo, b.hi)
		}
	}
	return nil
}
