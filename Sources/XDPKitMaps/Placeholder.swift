// Typed views over BPF maps.
