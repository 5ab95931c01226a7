package isa

import (
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	all := []Level{Go, AVX2, AVX512}
	for _, c := range []struct {
		req       string
		supported []Level
		want      Level
		warn      string
	}{
		{"", all, AVX512, ""},
		{"avx2", all, AVX2, ""},
		{"GO", all, Go, ""},
		{"avx512", []Level{Go, AVX2}, AVX2, "cannot run avx512"},
		{"neon", all, AVX512, "cannot run neon"},
		{"sse9", all, AVX512, "unknown level"},
		{"neon", []Level{Go, NEON}, NEON, ""},
	} {
		got, w := resolve(c.req, c.supported)
		if got != c.want || (c.warn == "") != (w == "") || !strings.Contains(w, c.warn) {
			t.Errorf("resolve(%q, %v) = %v, %q; want %v, %q", c.req, c.supported, got, w, c.want, c.warn)
		}
	}
}

func TestHasOrder(t *testing.T) {
	for _, l := range Supported() {
		restore := SetForTest(l)
		if !Has(Go) || !Has(l) {
			t.Errorf("level %v: Has(Go)=%v Has(%v)=%v", l, Has(Go), l, Has(l))
		}
		if l == AVX512 && !Has(AVX2) {
			t.Error("AVX512 must include AVX2")
		}
		if l == Go && (Has(AVX2) || Has(AVX512) || Has(NEON)) {
			t.Error("Go level must not allow assembly")
		}
		if l == AVX2 && Has(AVX512) {
			t.Error("AVX2 level must not allow AVX-512")
		}
		restore()
	}
	if !strings.HasPrefix(Describe(), "kernels: "+Active().String()) {
		t.Errorf("Describe() = %q", Describe())
	}
}
