package main

import (
	"strings"
	"testing"
)

// TestDrawReportFlags: draw and report share the checks of --run, --tau
// (needs --mode) and the colour flags; each mistake is a usage error (exit
// 2) or an error naming the flag (exit 1), before any file is read.
func TestDrawReportFlags(t *testing.T) {
	for _, cmd := range []string{"draw", "report"} {
		for _, c := range []struct {
			args []string
			code int
			want string // in stderr (usage errors print to os.Stderr: not checked)
		}{
			{nil, 2, ""},
			{[]string{"--run", "r", "extra"}, 2, ""},
			{[]string{"--run", "r", "--tau", "1"}, 1, "--tau needs --mode"},
			{[]string{"--run", "r", "--mode", "semi", "--tau", "x"}, 1, `--tau "x"`},
			{[]string{"--run", "r", "--colormap", "rainbow"}, 1, "rainbow"},
			{[]string{"--run", "r", "--scale", "log"}, 1, "log"},
		} {
			var out, errb strings.Builder
			code := runMain(append([]string{cmd}, c.args...), &out, &errb)
			if code != c.code || !strings.Contains(errb.String(), c.want) {
				t.Errorf("%s %v: exit %d, stderr %q; want exit %d and %q", cmd, c.args, code, errb.String(), c.code, c.want)
			}
		}
	}
}

func TestParseSettingTau(t *testing.T) {
	if tau, has, err := parseSettingTau("", ""); err != nil || has || tau != 0 {
		t.Errorf("no --tau: %v %v %v, want 0 false nil", tau, has, err)
	}
	if tau, has, err := parseSettingTau("semi", "0.5"); err != nil || !has || tau != 0.5 {
		t.Errorf("--mode semi --tau 0.5: %v %v %v, want 0.5 true nil", tau, has, err)
	}
}
