package main

import (
	"flag"
	"fmt"
	"sort"

	"github.com/anomclust/anomclust/bench"
)

// benchTarget is one `anomclust bench <name>` target.
type benchTarget struct {
	name    string
	summary string
	run     func(args []string) error
}

// defaultPython is the interpreter the bench targets run their PyTorch or
// NumPy references with unless --python names another.
const defaultPython = bench.DefaultPython

// pythonFlag adds --python, shared by every bench target that runs Python.
func pythonFlag(fs *flag.FlagSet) *string {
	return fs.String("python", defaultPython, "Python with torch for the reference measurement (\"\" to skip it)")
}

var benchTargets = map[string]benchTarget{}

// registerBench adds a target to `anomclust bench`; each target's file calls
// it from init.
func registerBench(b benchTarget) {
	if _, dup := benchTargets[b.name]; dup {
		panic("duplicate bench target " + b.name)
	}
	benchTargets[b.name] = b
}

func init() {
	register(command{name: "bench", summary: "measure speed against the reference implementations (ratios)", run: runBench})
}

func runBench(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		names := make([]string, 0, len(benchTargets))
		for n := range benchTargets {
			names = append(names, n)
		}
		sort.Strings(names)
		w := cliStdout
		if len(args) == 0 {
			w = cliStderr
			fmt.Fprintln(w, "anomclust bench: a target is required")
		}
		fmt.Fprintln(w, "Usage: anomclust bench <target> [flags]\n\nTargets:")
		for _, n := range names {
			fmt.Fprintf(w, "  %-10s %s\n", n, benchTargets[n].summary)
		}
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	b, ok := benchTargets[args[0]]
	if !ok {
		return fmt.Errorf("unknown bench target %q (run 'anomclust bench -h' for the list)", args[0])
	}
	return b.run(args[1:])
}
