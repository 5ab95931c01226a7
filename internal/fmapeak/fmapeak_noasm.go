//go:build !amd64 || noasm

package fmapeak

var (
	lanes   = 4
	isa     = "Go"
	fmaLoop = fmaLoopGo
)
