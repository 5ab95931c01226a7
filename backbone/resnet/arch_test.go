package resnet

import (
	"strings"
	"testing"
)

// TestParamsAreWhatNewReads: New builds from exactly the tensors Params
// lists (RandomWeights gives those New needs), and refuses a checkpoint
// lacking any of them, naming it: the key list and the model builder
// cannot drift apart.
func TestParamsAreWhatNewReads(t *testing.T) {
	for _, cfg := range []Config{
		{Name: "b", Block: Bottleneck, Blocks: [4]int{1, 2, 1, 1}, Planes: [4]int{8, 8, 16, 16}, WidthPerGroup: 128, NumClasses: 10},
		{Name: "s", Block: Basic, Blocks: [4]int{1, 1, 2, 1}, Planes: [4]int{8, 8, 16, 16}},
	} {
		ps, err := cfg.Params()
		if err != nil {
			t.Fatal(err)
		}
		sd := RandomWeights(cfg, 1)
		if _, err := New(cfg, sd); err != nil {
			t.Fatalf("%s: %v", cfg.Name, err)
		}
		required := 0
		for _, p := range ps {
			if p.Optional || strings.HasPrefix(p.Name, "fc.") {
				if _, ok := sd[p.Name]; ok {
					t.Errorf("%s: RandomWeights holds %s, which New does not use", cfg.Name, p.Name)
				}
				continue
			}
			required++
			v := sd[p.Name]
			delete(sd, p.Name)
			if _, err := New(cfg, sd); err == nil || !strings.Contains(err.Error(), p.Name) {
				t.Errorf("%s without %s: %v", cfg.Name, p.Name, err)
			}
			sd[p.Name] = v
		}
		if required != len(sd) {
			t.Errorf("%s: %d tensors generated, %d required", cfg.Name, len(sd), required)
		}
	}
}
