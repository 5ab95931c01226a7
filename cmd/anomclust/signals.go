package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// stopGrace is how long a command may take to stop by itself after
// SIGINT or SIGTERM (returning from a kernel that does not look at the
// context, removing its temporary files) before the process exits anyway.
// Outputs are written atomically and runs into a temporary folder, so an
// exit at any point leaves no partial file in place.
const stopGrace = 700 * time.Millisecond

// caught is the signal that cancelled the command (nil: none).
var caught atomic.Value // os.Signal

// exitHook, when set, replaces os.Exit for the hard exit (tests).
var exitHook atomic.Pointer[func(int)]

// hardExit says that command name was interrupted and ends the process.
func hardExit(name string, code int) {
	if f := exitHook.Load(); f != nil {
		(*f)(code)
		return
	}
	fmt.Fprintf(cliStderr, "anomclust %s: interrupted\n", name)
	os.Exit(code)
}

// signalCode is the shell's exit code for a process ended by sig: 128 + the
// signal number (130 for SIGINT, 143 for SIGTERM).
func signalCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

// interruptedCode is the exit code of a cancelled command: that of the
// signal caught, 130 (Ctrl-C) when none was (a context cancelled
// otherwise).
func interruptedCode() int {
	if s, ok := caught.Load().(os.Signal); ok {
		return signalCode(s)
	}
	return 130
}

// signalContext returns a context cancelled by SIGINT or SIGTERM, and a
// function that stops listening. The signal is remembered for the exit
// code. If the command has not returned stopGrace after the signal, or a
// second signal comes, the process exits at once with that code, saying so
// on stderr: both signals stop every command within a second, also one
// inside a long kernel that does not check the context.
func signalContext(name string) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var sig os.Signal
		select {
		case sig = <-ch:
		case <-done:
			return
		}
		caught.Store(sig)
		cancel()
		select {
		case <-done:
			return
		case <-time.After(stopGrace):
		case <-ch:
		}
		hardExit(name, signalCode(sig))
	}()
	var once atomic.Bool
	return ctx, func() {
		if once.CompareAndSwap(false, true) {
			signal.Stop(ch)
			close(done)
			cancel()
		}
	}
}
