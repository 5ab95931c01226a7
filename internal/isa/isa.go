// Package isa decides which instruction-set level the numeric kernels run:
// the best the CPU has (AVX-512F, AVX2+FMA, arm64 ASIMD, or none), lowered
// for the whole program by ANOMCLUST_ISA=avx512|avx2|neon|go. Kernel
// packages ask Has before they call assembly, so a level above the CPU's is
// never run and a forced lower level runs the same code a CPU without the
// higher one would.
package isa

import (
	"fmt"
	"os"
	"strings"
)

// Level is one instruction-set level. Levels of one architecture are
// ordered: each includes every lower one (Go is the pure-Go twins).
type Level int

const (
	// Go is the pure-Go twin of every kernel: any CPU.
	Go Level = iota
	// AVX2 is x86-64 AVX2 with FMA3 (256-bit vectors).
	AVX2
	// AVX512 is x86-64 AVX-512F (512-bit vectors); it includes AVX2.
	AVX512
	// NEON is arm64 Advanced SIMD (ASIMD, 128-bit vectors, FMLA).
	NEON
)

// EnvVar names the environment variable that lowers the level.
const EnvVar = "ANOMCLUST_ISA"

var names = map[Level]string{Go: "go", AVX2: "avx2", AVX512: "avx512", NEON: "neon"}

// String is the level's name as ANOMCLUST_ISA spells it.
func (l Level) String() string {
	if s, ok := names[l]; ok {
		return s
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// Parse reads a level name (case-insensitive; "avx-512", "asimd" and
// "purego" are accepted too).
func Parse(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "go", "purego", "none":
		return Go, nil
	case "avx2":
		return AVX2, nil
	case "avx512", "avx-512", "avx512f":
		return AVX512, nil
	case "neon", "asimd":
		return NEON, nil
	}
	return Go, fmt.Errorf("%s=%q: unknown level (want one of avx512, avx2, neon, go)", EnvVar, s)
}

var (
	active  Level
	warning string
)

func init() { active, warning = resolve(os.Getenv(EnvVar), Supported()) }

// resolve picks the level to run from the requested name and the levels the
// CPU supports (lowest first): the requested one when the CPU has it, else
// the best the CPU has, with a warning saying why.
func resolve(req string, supported []Level) (Level, string) {
	best := supported[len(supported)-1]
	if strings.TrimSpace(req) == "" {
		return best, ""
	}
	l, err := Parse(req)
	if err != nil {
		return best, err.Error() + "; using " + best.String()
	}
	for _, s := range supported {
		if s == l {
			return l, ""
		}
	}
	return best, fmt.Sprintf("%s=%s: this CPU or build cannot run %s; using %s", EnvVar, req, l, best)
}

// Active is the level the kernels run at.
func Active() Level { return active }

// Has reports whether kernels of level l may run: l is supported by the CPU
// and at or below the active level on the same architecture (Go always).
func Has(l Level) bool {
	switch l {
	case Go:
		return true
	case AVX2:
		return active == AVX2 || active == AVX512
	case AVX512:
		return active == AVX512
	case NEON:
		return active == NEON
	}
	return false
}

// Supported lists the levels this CPU and build can run, lowest (Go) first.
func Supported() []Level { return cpuLevels() }

// Warning is non-empty when ANOMCLUST_ISA asked for something that could
// not be honoured; it says what runs instead.
func Warning() string { return warning }

// Describe is one line for `anomclust version` and run logs: the active
// level, what the CPU supports, and why it differs if it does.
func Describe() string {
	var ss []string
	for _, l := range Supported() {
		ss = append(ss, l.String())
	}
	s := fmt.Sprintf("kernels: %s (cpu supports %s)", active, strings.Join(ss, ", "))
	if w := Warning(); w != "" {
		s += "; " + w
	}
	return s
}

// SetForTest sets the active level and returns a function restoring the
// previous one. Only for tests of packages that read Has on every call;
// packages that choose a kernel once at start-up need ANOMCLUST_ISA in a
// child process instead. It panics when the CPU cannot run l.
func SetForTest(l Level) (restore func()) {
	ok := false
	for _, s := range Supported() {
		ok = ok || s == l
	}
	if !ok {
		panic("isa.SetForTest: this CPU cannot run " + l.String())
	}
	prev := active
	active = l
	return func() { active = prev }
}
