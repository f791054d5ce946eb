package robot

// runStack is the stack a run's goroutine grows to before the run
// starts. A goroutine starts with a 2 KiB stack, and a run's call chain
// (execute, runWorkflow, the engine, a node) is deeper: growing it one
// doubling at a time copied and re-linked the stack three times per job,
// the deeper each time, which was about a tenth of a node's CPU in the
// end-to-end bench (runtime.copystack under Robot.start). Grown at once,
// while the stack holds only a frame or two, it is copied once and
// cheaply. Past it a run grows its stack as any goroutine does.
const runStack = 12 << 10

// growStack grows the calling goroutine's stack to hold runStack bytes
// more than it uses now. i is any number: an index the compiler cannot
// know keeps it from dropping the array.
//
//go:noinline
func growStack(i int) byte {
	var pad [runStack]byte
	pad[uint(i)%runStack] = 1
	return pad[uint(i+1)%runStack]
}
