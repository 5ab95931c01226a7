package pipeline

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noisy is a w x h image of varied pixels (so the encoded data is long
// enough to cut in the middle of the pixels).
func noisy(w, h int) image.Image {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, color.RGBA{uint8(x*7 + y*13), uint8(x * y), uint8(x ^ y), 255})
		}
	}
	return m
}

// TestCheckImageTruncated: a PNG and a JPEG cut in their pixel data keep a
// valid header (image.DecodeConfig accepts them) but fail the check, with
// a text that says the pixel data does not decode; the whole files pass.
func TestCheckImageTruncated(t *testing.T) {
	dir := t.TempDir()
	img := noisy(96, 80)
	var pb, jb bytes.Buffer
	if err := png.Encode(&pb, img); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jb, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"whole.png": pb.Bytes(), "whole.jpg": jb.Bytes(),
		"cut.png": pb.Bytes()[:pb.Len()*2/3], "cut.jpg": jb.Bytes()[:jb.Len()*2/3],
	}
	var paths []string
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		if strings.HasPrefix(name, "cut") {
			if _, _, err := image.DecodeConfig(bytes.NewReader(b)); err != nil {
				t.Fatalf("%s: the header should still decode (else this test checks nothing new): %v", name, err)
			}
		}
	}
	errs, _, err := decodeAll(context.Background(), paths, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		cut := strings.HasPrefix(filepath.Base(p), "cut")
		switch {
		case cut && errs[i] == nil:
			t.Errorf("%s: truncated pixel data passed the check", p)
		case cut && !strings.Contains(errs[i].Error(), "pixel data does not decode"):
			t.Errorf("%s: %v", p, errs[i])
		case !cut && errs[i] != nil:
			t.Errorf("%s: %v", p, errs[i])
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := decodeAll(ctx, paths, 1, nil); err == nil {
		t.Error("a cancelled check returned no error")
	}
}
