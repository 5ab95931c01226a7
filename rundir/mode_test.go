package rundir

import "testing"

func TestModeProperties(t *testing.T) {
	for _, c := range []struct {
		mode         string
		tau, scored  bool
		text, dirEnd string
	}{
		{ModeUnsupervised, true, true, "0.5", "unsupervised/tau_0.5"},
		{ModeSemi, true, true, "0.5", "semi/tau_0.5"},
		{ModeAverage, false, false, "-", "c/average"},
	} {
		m := Mode(c.mode)
		if m.HasTau() != c.tau || m.Scored() != c.scored || m.TauText(0.5) != c.text {
			t.Errorf("%s: HasTau %v Scored %v TauText %q; want %v %v %q", c.mode, m.HasTau(), m.Scored(), m.TauText(0.5), c.tau, c.scored, c.text)
		}
		if d := ResultDir("out", "c", c.mode, 0.5); d[len(d)-len(c.dirEnd):] != c.dirEnd {
			t.Errorf("ResultDir(%s) = %s, want suffix %s", c.mode, d, c.dirEnd)
		}
	}
}
