// Glibc's `stdout` is a C global variable, which strict concurrency checking refuses to touch;
// it is read once here, before anything else runs, so the import is @preconcurrency.
@preconcurrency import Glibc

/// Switches standard output to line buffering (C stdio, which `print` writes through), so
/// that every line reaches a pipe or a log file when it is printed, not when 4 KiB have piled
/// up or the process exits; a process killed while it blocks has written all it printed.
func lineBufferStandardOutput() {
  setvbuf(stdout, nil, _IOLBF, 0)
}
