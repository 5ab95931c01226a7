package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestHelpListsCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runMain([]string{"help"}, &out, &errb); code != 0 {
		t.Fatalf("help exit %d", code)
	}
	for name := range commands {
		if !strings.Contains(out.String(), name) {
			t.Errorf("help does not list %q:\n%s", name, out.String())
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runMain([]string{"frobnicate"}, &out, &errb); code != 2 {
		t.Fatalf("unknown command exit %d, want 2", code)
	}
	if !strings.Contains(errb.String(), "frobnicate") {
		t.Errorf("error does not name the command: %s", errb.String())
	}
}

func TestNeedFlag(t *testing.T) {
	for _, c := range []struct {
		given bool
		args  []string
		ok    bool
	}{{true, nil, true}, {false, nil, false}, {true, []string{"extra"}, false}} {
		fs := newFlags("x", "--out DIR")
		var out bytes.Buffer
		fs.SetOutput(&out)
		fs.Parse(c.args)
		err := needFlag(fs, c.given, "--out DIR")
		if c.ok != (err == nil) || (err != nil && err != errUsage) {
			t.Errorf("given %v, args %v: err %v", c.given, c.args, err)
		}
		if !c.ok && !strings.Contains(out.String(), "anomclust x: --out DIR is required") {
			t.Errorf("given %v, args %v: output %q does not explain", c.given, c.args, out.String())
		}
	}
}
