package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/color"
	"image/jpeg"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/anomclust/anomclust/draw"
	"github.com/anomclust/anomclust/preprocess"
	"github.com/anomclust/anomclust/rundir"
)

// buildGalleries lays out one gallery per cluster (matched clusters in label
// order, then unmatched ones) with at most perCluster sampled thumbnails each:
// up to half of them images that do not belong (matched label != true
// label), the rest evenly spaced over the images that do, so a large cluster
// shows both what it is and what it got wrong.
func buildGalleries(src *draw.Source, as []rundir.Assignment, alpha []float32, match map[int]string,
	clusterColor func(int) color.RGBA, perCluster int, opt Options) ([]galleryView, error) {
	members := map[int][]int{}
	var clusters []int
	for i, a := range as {
		if _, ok := members[a.Cluster]; !ok {
			clusters = append(clusters, a.Cluster)
		}
		members[a.Cluster] = append(members[a.Cluster], i)
	}
	labelOrder := map[string]int{}
	for i, l := range src.Cat.Labels {
		labelOrder[l] = i
	}
	slices.SortFunc(clusters, func(a, b int) int {
		la, oka := labelOrder[match[a]]
		lb, okb := labelOrder[match[b]]
		oka, okb = oka && match[a] != "", okb && match[b] != ""
		switch {
		case oka && okb && la != lb:
			return la - lb
		case oka != okb:
			if oka {
				return -1
			}
			return 1
		}
		return a - b
	})
	var shared float32
	for _, v := range alpha {
		shared = max(shared, v)
	}
	type job struct{ g, t, item int }
	var jobs []job
	var gs []galleryView
	// Most typical first: by distance to the cluster's centre (relative
	// to its spread, assignments.csv), unknown distances last.
	for _, m := range members {
		slices.SortStableFunc(m, func(a, b int) int {
			da, db := as[a].Distance, as[b].Distance
			switch {
			case da == db || (math.IsNaN(da) && math.IsNaN(db)):
				return 0
			case math.IsNaN(db) || da < db:
				return -1
			}
			return 1
		})
	}
	for _, k := range clusters {
		lab := match[k]
		var right, wrong []int
		labelled := !src.Cat.Unlabelled && len(src.Cat.Labels) >= 2
		for _, i := range members[k] {
			if !labelled || as[i].Label == lab {
				right = append(right, i)
			} else {
				wrong = append(wrong, i)
			}
		}
		nWrong := min(len(wrong), max(perCluster/2, perCluster-len(right)))
		nRight := min(len(right), perCluster-nWrong)
		shown := append(spread(right, nRight), spread(wrong, nWrong)...)
		g := galleryView{Cluster: k, Label: lab, Color: template.CSS(hex(clusterColor(k))), Size: len(members[k]),
			Correct: len(right), Wrong: len(wrong), Shown: len(shown), Labelled: labelled}
		if lab == "" {
			g.Label = "unmatched"
		}
		g.Unlabelled = src.Cat.Unlabelled
		for t, i := range shown {
			it := src.Items[i]
			tv := thumbView{Index: i, Label: it.Label, Wrong: labelled && as[i].Label != lab,
				Color: template.CSS(hex(labelColor(labelOrder[it.Label])))}
			tv.Title = fmt.Sprintf("#%d %s — true label %s", i, it.Path, it.Label)
			tv.Caption = it.Label
			if src.Cat.Unlabelled {
				tv.Title = fmt.Sprintf("#%d %s", i, it.Path)
				tv.Caption = filepath.Base(it.Path)
			}
			if d := as[i].Distance; !math.IsNaN(d) {
				tv.Title += fmt.Sprintf(", distance %.2f spreads, confidence %.2f", d, as[i].Confidence)
			}
			g.Thumbs = append(g.Thumbs, tv)
			jobs = append(jobs, job{g: len(gs), t: t, item: i})
		}
		gs = append(gs, g)
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(1, min(runtime.GOMAXPROCS(0), len(jobs))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				jb := jobs[j]
				uri, peak, err := thumbnail(src, jb.item, alpha, shared, opt)
				errs[j] = err
				gs[jb.g].Thumbs[jb.t].Src = uri
				gs[jb.g].Thumbs[jb.t].Title += fmt.Sprintf(", alpha max %.3g", peak)
			}
		}()
	}
	for j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return gs, nil
}

// spread picks n of the indices, evenly spaced (all when n >= len).
func spread(idx []int, n int) []int {
	if n >= len(idx) {
		return idx
	}
	out := make([]int, n)
	for j := range n {
		out[j] = idx[j*len(idx)/n]
	}
	return out
}

// thumbnail renders image i as a small JPEG data: URI: the crop the model
// saw, downscaled with PIL's filter, alpha blended over it and the mask's
// outline in white. It also returns the image's largest alpha.
func thumbnail(src *draw.Source, i int, alpha []float32, shared float32, opt Options) (template.URL, float32, error) {
	crop, err := src.Crop(i)
	if err != nil {
		return "", 0, err
	}
	t := opt.Thumb
	small := preprocess.Resize(crop, t, t)
	heat, peak := src.Heat(i, alpha, t, t)
	scale := peak
	if opt.Scale == draw.Shared {
		scale = shared
	}
	img := draw.Overlay(small, heat, scale, opt.Colormap, draw.DefaultOpacity)
	mask, err := src.Mask(i)
	if err != nil {
		return "", 0, err
	}
	if mask != nil {
		draw.Outline(img, preprocess.Resize(mask, t, t), color.RGBA{255, 255, 255, 255})
	}
	var buf bytes.Buffer
	buf.WriteString("data:image/jpeg;base64,")
	enc := base64.NewEncoder(base64.StdEncoding, &buf)
	// Quality 80 keeps a 96 px thumbnail near 3 KB with no visible blocking.
	if err := jpeg.Encode(enc, img, &jpeg.Options{Quality: 80}); err != nil {
		return "", 0, fmt.Errorf("thumbnail of %s: %w", src.Items[i].Path, err)
	}
	enc.Close()
	return template.URL(buf.String()), peak, nil
}
