package zoo

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/anomclust/anomclust/backbone"
)

var (
	familiesMu sync.RWMutex
	families   = map[string]backbone.Family{}
)

// Register makes a backbone family available to New, Open and
// RandomWeights for every registry entry whose Arch.Family() is f.Name,
// as image.RegisterFormat does for image formats. It panics when f has no
// name, no way to build a backbone, or a name already registered.
func Register(f backbone.Family) {
	familiesMu.Lock()
	defer familiesMu.Unlock()
	if f.Name == "" || (f.New == nil && f.Load == nil) {
		panic(fmt.Sprintf("zoo.Register: family %q needs a name and New or Load", f.Name))
	}
	if _, dup := families[f.Name]; dup {
		panic(fmt.Sprintf("zoo.Register: family %q registered twice", f.Name))
	}
	families[f.Name] = f
}

// Families lists the registered family names, sorted.
func Families() []string {
	familiesMu.RLock()
	defer familiesMu.RUnlock()
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	sort.Strings(names)
	return slices.Clip(names)
}

// family returns the family registered under name.
func family(name string) (backbone.Family, error) {
	familiesMu.RLock()
	f, ok := families[name]
	familiesMu.RUnlock()
	if !ok {
		return backbone.Family{}, fmt.Errorf("no backbone family %q registered (have %v)", name, Families())
	}
	return f, nil
}
