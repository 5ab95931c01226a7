package main

import (
	"strings"
	"testing"
)

func TestEvalFlags(t *testing.T) {
	if err := runEval([]string{"--sets", "nosuchset", "--cache", "none"}); err == nil || !strings.Contains(err.Error(), `unknown set "nosuchset"`) {
		t.Errorf("unknown set: %v", err)
	}
	if err := runEval([]string{"--taus", "1,x", "--cache", "none"}); err == nil || !strings.Contains(err.Error(), "--taus") {
		t.Errorf("bad --taus: %v", err)
	}
	if err := runEval([]string{"--methods", "ward,nosuch", "--cache", "none"}); err == nil || !strings.Contains(err.Error(), "--methods") || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("bad --methods: %v", err)
	}
	if err := runEval([]string{"extra"}); err != errUsage {
		t.Errorf("positional argument: %v", err)
	}
}
