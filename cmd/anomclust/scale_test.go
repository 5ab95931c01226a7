package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/featcache"
	"github.com/anomclust/anomclust/pipeline"
)

func TestScaleFlags(t *testing.T) {
	parse := func(args ...string) (pipeline.Options, error) {
		f := newRunFlags()
		if err := f.fs.Parse(append([]string{"--data", "d", "--out", "o", "--cache", "none"}, args...)); err != nil {
			t.Fatal(err)
		}
		return f.options()
	}
	d, _ := pipeline.Preset("")
	o, err := parse()
	if err != nil || o.Refs != d.Refs || o.Proj != d.Proj || o.SemiProj != d.SemiProj || o.CacheMax != featcache.DefaultMaxBytes {
		t.Errorf("defaults: refs %d proj %d semi %d max %d, %v", o.Refs, o.Proj, o.SemiProj, o.CacheMax, err)
	}
	o, err = parse("--refs", "12", "--proj", "64", "--semi-proj", "exact", "--cache-max", "1.5G")
	if err != nil || o.Refs != 12 || o.Proj != 64 || o.SemiProj != 0 || o.CacheMax != 3<<29 {
		t.Errorf("explicit: %d %d %d %d %v", o.Refs, o.Proj, o.SemiProj, o.CacheMax, err)
	}
	o, err = parse("--refs", "12", "--proj", "64", "--semi-proj", "32", "--exact")
	if err != nil || o.Refs != 0 || o.Proj != 0 || o.SemiProj != 0 || !o.CoresetExact {
		t.Errorf("--exact: %d %d %d %v %v", o.Refs, o.Proj, o.SemiProj, o.CoresetExact, err)
	}
	if o, err = parse("--coreset-exact"); err != nil || !o.CoresetExact || o.Refs != d.Refs {
		t.Errorf("--coreset-exact: %v refs %d, %v", o.CoresetExact, o.Refs, err)
	}
	if o, _ = parse(); o.CoresetExact {
		t.Error("default: sequential coreset search, want the blocked one")
	}
	if o, err = parse("--refs", "ALL"); err != nil || o.Refs != 0 {
		t.Errorf("--refs ALL: %d %v", o.Refs, err)
	}
	for _, bad := range [][]string{{"--refs", "0"}, {"--refs", "some"}, {"--proj", "-3"}, {"--cache-max", "lots"}} {
		if _, err := parse(bad...); err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(bad[0], "--")) {
			t.Errorf("%v: error %v, want one naming the flag", bad, err)
		}
	}
}

func TestCacheCommand(t *testing.T) {
	root := t.TempDir()
	c, _ := featcache.Open(root, "x")
	for i := range 3 {
		c.Put(featcache.KeyOfBytes([]byte{byte(i)}), make([]float32, 256), 16, 16)
	}
	var out bytes.Buffer
	if err := runCacheTo([]string{"du", "--cache", root}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "total                     3") {
		t.Errorf("du:\n%s", out.String())
	}
	out.Reset()
	if err := runCacheTo([]string{"prune", "--cache", root, "--max", "0"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "removed 3 entries") {
		t.Errorf("prune:\n%s", out.String())
	}
	if err := runCacheTo([]string{"prune", "--cache", root, "--max", "x"}, &out); err == nil {
		t.Error("--max x accepted")
	}
	if err := runCacheTo([]string{"shrink"}, &out); err != errUsage {
		t.Errorf("unknown subcommand: %v", err)
	}
}
