//go:build !amd64

package engine

import "unsafe"

// prefetch does nothing where there is no assembly for it (see
// prefetch_amd64.go); the look-ahead then only costs its reads.
func prefetch(p unsafe.Pointer) {}
