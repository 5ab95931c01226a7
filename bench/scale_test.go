package bench

import (
	"os"
	"path/filepath"
	"testing"
)

func TestScaleSubset(t *testing.T) {
	src := t.TempDir()
	for _, c := range []string{"a", "b", "c"} {
		os.MkdirAll(filepath.Join(src, c), 0o755)
		for i := range 4 {
			os.WriteFile(filepath.Join(src, c, c+string(rune('0'+i))+".png"), []byte(c), 0o644)
		}
	}
	os.WriteFile(filepath.Join(src, "a", "notes.txt"), nil, 0o644)
	classes, err := scaleClasses(src)
	if err != nil || len(classes) != 3 || len(classes[0].files) != 4 {
		t.Fatalf("classes %v %v", classes, err)
	}
	dst := filepath.Join(t.TempDir(), "n7")
	if err := scaleSubset(classes, 7, dst); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, c := range []string{"a", "b", "c"} {
		fs, _ := os.ReadDir(filepath.Join(dst, c))
		count[c] = len(fs)
	}
	if count["a"] != 3 || count["b"] != 2 || count["c"] != 2 {
		t.Errorf("round-robin pick of 7: %v", count)
	}
}
