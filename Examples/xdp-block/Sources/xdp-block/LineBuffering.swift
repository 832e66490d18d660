// `stdout` is a C global variable that strict concurrency checking refuses to touch; it is
// used once, at start-up, before any other thread exists.
@preconcurrency import Glibc

/// Line-buffers C stdio's standard output (what `print` and the swift-log console handler
/// write through); `say` writes unbuffered anyway. A reader on a pipe then sees each line as
/// it is printed, also when the process is killed later.
func makeStandardOutputLineBuffered() {
  setvbuf(stdout, nil, _IOLBF, 0)
}
