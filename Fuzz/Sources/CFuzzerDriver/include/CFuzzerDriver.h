#ifndef XDPKIT_CFUZZERDRIVER_H
#define XDPKIT_CFUZZERDRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry point for programs that have their own main (clang's
/// libclang_rt.fuzzer / fuzzer_no_main runtimes both define it). It parses the libFuzzer
/// command-line flags in argc/argv and runs the fuzzing loop, calling `callback` with each input.
int LLVMFuzzerRunDriver(int *argc, char ***argv,
                        int (*callback)(const uint8_t *data, size_t size));

#endif
