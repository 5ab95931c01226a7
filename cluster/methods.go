package cluster

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Names of the built-in clustering methods (docs/METHOD.md §5).
const (
	MethodWard   = "ward"   // agglomerative, Ward linkage (sklearn's defaults)
	MethodKMeans = "kmeans" // k-means++, 10 restarts, seeded
	// MethodSpectral is normalised spectral clustering of a self-tuning
	// kNN affinity, k-means of the embedding seeded (Spectral).
	MethodSpectral = "spectral"
)

// MethodOptions are the settings a Method may use.
type MethodOptions struct {
	Seed    uint64 // random seed (k-means restarts, also spectral's)
	Workers int    // goroutines; 0 = GOMAXPROCS; the result does not depend on it
	// Tree is Ward's tree of the same points when the caller has built it
	// already (for the K estimate); a method that needs it reuses it.
	Tree *Linkage
}

// Method is a named clustering method: it splits the n rows of x (n x d,
// row-major) into k clusters and returns each row's label in [0, k) and,
// when it builds one, the merge tree (written as linkage.npy; nil otherwise).
type Method struct {
	Name    string
	Doc     string // one line for help texts
	Cluster func(x []float32, n, d, k int, opt MethodOptions) ([]int, *Linkage, error)
}

var (
	methodsMu sync.RWMutex
	methods   = map[string]Method{}
)

func init() {
	RegisterMethod(Method{Name: MethodWard, Doc: "agglomerative, Ward linkage", Cluster: wardMethod})
	RegisterMethod(Method{Name: MethodKMeans, Doc: "k-means++, 10 restarts, seeded", Cluster: kmeansMethod})
	RegisterMethod(Method{Name: MethodSpectral, Doc: "spectral (self-tuning kNN affinity, Ng-Jordan-Weiss), seeded", Cluster: spectralMethod})
}

// RegisterMethod adds a clustering method under m.Name. It panics on an
// empty name, a nil Cluster or a name registered twice.
func RegisterMethod(m Method) {
	methodsMu.Lock()
	defer methodsMu.Unlock()
	if m.Name == "" || m.Cluster == nil {
		panic(fmt.Sprintf("cluster.RegisterMethod: method %q needs a name and Cluster", m.Name))
	}
	if _, dup := methods[m.Name]; dup {
		panic(fmt.Sprintf("cluster.RegisterMethod: method %q registered twice", m.Name))
	}
	methods[m.Name] = m
}

// Methods lists the registered method names, sorted.
func Methods() []string {
	methodsMu.RLock()
	defer methodsMu.RUnlock()
	names := make([]string, 0, len(methods))
	for n := range methods {
		names = append(names, n)
	}
	sort.Strings(names)
	return slices.Clip(names)
}

// LookupMethod returns the method registered under name, or an error
// naming the known ones.
func LookupMethod(name string) (Method, error) {
	methodsMu.RLock()
	m, ok := methods[name]
	methodsMu.RUnlock()
	if !ok {
		return Method{}, fmt.Errorf("unknown cluster method %q (known: %s)", name, strings.Join(Methods(), ", "))
	}
	return m, nil
}

// wardMethod cuts Ward's tree (opt.Tree, or built here) into k clusters.
func wardMethod(x []float32, n, d, k int, opt MethodOptions) ([]int, *Linkage, error) {
	link := opt.Tree
	if link == nil {
		var err error
		if link, err = Ward(x, n, d); err != nil {
			return nil, nil, err
		}
	}
	labels, err := link.Cut(k)
	if err != nil {
		return nil, nil, err
	}
	return labels, link, nil
}

// kmeansMethod runs KMeans with its default restarts and iterations.
func kmeansMethod(x []float32, n, d, k int, opt MethodOptions) ([]int, *Linkage, error) {
	r, err := KMeans(x, n, d, k, KMeansOptions{Seed: opt.Seed, Workers: opt.Workers})
	if err != nil {
		return nil, nil, err
	}
	return r.Labels, nil, nil
}

// spectralMethod runs Spectral; it builds no tree.
func spectralMethod(x []float32, n, d, k int, opt MethodOptions) ([]int, *Linkage, error) {
	labels, err := Spectral(x, n, d, k, SpectralOptions{Seed: opt.Seed, Workers: opt.Workers})
	if err != nil {
		return nil, nil, err
	}
	return labels, nil, nil
}
