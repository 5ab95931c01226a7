package rundir

// Mode is a weighting mode's name as written in paths and files
// (ModeUnsupervised, ModeSemi, ModeAverage). The mode constants are untyped,
// so they serve as strings and as Modes; JSON and CSV keep the plain names.
// What sets the modes apart for the rest of the program is asked here, not
// by comparing names: a new mode is one entry in the modes table.
type Mode string

// Source is where a weighting mode's patch anomaly scores come from
// (docs/METHOD.md §4).
type Source int

const (
	// SourceNone: no scores; the weights are uniform.
	SourceNone Source = iota
	// SourceOthers: each image against the other images of the set
	// (alpha.Unsupervised and its sampled/streamed forms).
	SourceOthers
	// SourceBank: each image against a memory bank of normal images
	// (alpha.SemiSupervised).
	SourceBank
)

// modeInfo is one weighting mode: its name, whether its weights depend on
// a temperature tau, and its score source.
type modeInfo struct {
	name   string
	hasTau bool
	source Source
}

// modes is the table of weighting modes, in the order runs process them.
var modes = []modeInfo{
	{ModeUnsupervised, true, SourceOthers},
	{ModeSemi, true, SourceBank},
	{ModeAverage, false, SourceNone},
}

// Modes lists the weighting modes in the order runs process them.
func Modes() []string {
	out := make([]string, len(modes))
	for i, m := range modes {
		out[i] = m.name
	}
	return out
}

// info is m's table entry; ok is false for a name not in the table.
func (m Mode) info() (modeInfo, bool) {
	for _, e := range modes {
		if e.name == string(m) {
			return e, true
		}
	}
	return modeInfo{}, false
}

// Known says whether m is in the table of weighting modes.
func (m Mode) Known() bool {
	_, ok := m.info()
	return ok
}

// HasTau says whether the mode's weights depend on a temperature tau
// (false for average: its weights are uniform, so results carry no tau).
// An unknown name counts as having one, as every scored mode does.
func (m Mode) HasTau() bool {
	e, ok := m.info()
	return !ok || e.hasTau
}

// Source is where the mode's patch scores come from; SourceNone for an
// unknown name.
func (m Mode) Source() Source {
	e, _ := m.info()
	return e.source
}

// Scored says whether the mode computes patch anomaly scores (scores.npy,
// the score cache, an image's anomaly score); average does not. An unknown
// name counts as scored.
func (m Mode) Scored() bool {
	e, ok := m.info()
	return !ok || e.source != SourceNone
}

// AnyFrom says whether any of modes takes its scores from src (e.g.
// whether a run needs the unsupervised reference set).
func AnyFrom(modes []string, src Source) bool {
	for _, m := range modes {
		if Mode(m).Source() == src {
			return true
		}
	}
	return false
}

// TauText is tau as written in tables and messages: TauName(tau), or "-"
// for a mode without a tau.
func (m Mode) TauText(tau float64) string {
	if !m.HasTau() {
		return "-"
	}
	return TauName(tau)
}
