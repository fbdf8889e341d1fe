package engine

import "unsafe"

// prefetch asks the CPU to bring the cache line at p closer, without
// waiting for it (PREFETCHT0): a hint, never a fault, with no effect on
// what any instruction computes. Go has no such intrinsic for a package.
//
//go:noescape
func prefetch(p unsafe.Pointer)
