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

func TestModeTable(t *testing.T) {
	want := map[string]Source{ModeUnsupervised: SourceOthers, ModeSemi: SourceBank, ModeAverage: SourceNone}
	if got := Modes(); len(got) != len(want) || got[0] != ModeUnsupervised || got[1] != ModeSemi || got[2] != ModeAverage {
		t.Errorf("Modes() = %v", got)
	}
	for m, src := range want {
		if !Mode(m).Known() || Mode(m).Source() != src {
			t.Errorf("%s: Known %v Source %v, want true %v", m, Mode(m).Known(), Mode(m).Source(), src)
		}
	}
	if Mode("nope").Known() {
		t.Error("unknown mode is Known")
	}
	if !AnyFrom([]string{ModeAverage, ModeSemi}, SourceBank) || AnyFrom([]string{ModeAverage, ModeSemi}, SourceOthers) {
		t.Error("AnyFrom wrong")
	}
}
