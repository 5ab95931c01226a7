// Package cputime reads the CPU time the process has used, for measurements
// that must not count the time other jobs on a shared machine took from it
// (bench's contention-robust ratios, the score cost estimate).
package cputime
