// Intentionally empty: SwiftPM needs one source file per C target. The declaration in
// include/CFuzzerDriver.h is implemented by the libFuzzer runtime linked into the executable.
