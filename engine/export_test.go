package engine

// SetLookAhead switches Apply's look-ahead (ahead.go) on or off, for
// BenchmarkApplyPaybackLookAhead to compare the two in one process.
func SetLookAhead(e *Engine, on bool) { e.ahead.off = !on }
