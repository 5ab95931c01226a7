package rundir

// Mode is a weighting mode's name as written in paths and files
// (ModeUnsupervised, ModeSemi, ModeAverage). The mode constants are untyped,
// so they serve as strings and as Modes; JSON and CSV keep the plain names.
// What sets the modes apart for the rest of the program is asked here, not
// by comparing names: a new mode states its properties in these methods.
type Mode string

// HasTau says whether the mode's weights depend on a temperature tau
// (false for average: its weights are uniform, so results carry no tau).
func (m Mode) HasTau() bool { return m != ModeAverage }

// Scored says whether the mode computes patch anomaly scores (scores.npy,
// the score cache, an image's anomaly score); average does not.
func (m Mode) Scored() bool { return m != ModeAverage }

// TauText is tau as written in tables and messages: TauName(tau), or "-"
// for a mode without a tau.
func (m Mode) TauText(tau float64) string {
	if !m.HasTau() {
		return "-"
	}
	return TauName(tau)
}
