import Glibc

// xdpkit-bench: the XDPKit side of the benchmark suite (Documentation/Benchmarks.md). Each
// suite mirrors one of Benchmarks/C/libbpf_bench.c and prints raw samples in the same format;
// `report` turns the samples of both sides into the table. Run by Benchmarks/run.sh.

let usage = """
  usage: xdpkit-bench SUITE ARGS...
    fixtures   DIR                              write firewall.o and the test frames into DIR
    attach     IFACE ITERATIONS WARMUP [detach] load + attach (native, bpf_link) + teardown
    maps       SAMPLES OPS                      single-element HashMap<UInt32, UInt32> ops
    percpu     SAMPLES CALLS                    PerCPUArray<UInt64>.sum(at:)
    batch      SAMPLES ENTRIES                  insert(contentsOf:) / lookupAll() vs loops
    datapath   FIXTURES_DIR REPEAT ROUNDS [NAME=OBJ[,GLOBAL=VALUE|,noskip]...]
                                                blocklist ns/packet under BPF_PROG_TEST_RUN
    parse      SAMPLES ITERATIONS NAME=OBJ...   BPFObject(bytes:)
    bulk       SAMPLES ENTRIES                  xdp-block's add(contentsOf:) vs add(_:) per entry
    reload     SAMPLES ENTRIES                  xdp-block run --config: file written -> maps reconciled
    logging    XDP_LOG_O FRAME REPEAT ROUNDS    program logging ns/packet; forwarder records/s
    btf        SAMPLES ITERATIONS VMLINUX CORE_OBJ  parse kernel BTF; CO-RE index; 100 relocations
    dispatcher SETUP IFACE OBJECT PROGRAM FRAME REPEAT SAMPLES  ns/frame alone or behind a dispatcher
    globals    GLOBALS_O SAMPLES OPS            a .bss global read/written mmapped vs through bpf(2)
    xsk        rx|tx|echo IFACE WARMUP PACKETS READY_FILE  AF_XDP packets/s per core (batch API)
    syscalls   SIDE TRACE_N TRACE_0 N           per-cycle counts from two strace -f logs
    report     RESULTS                          the table, from the samples of both sides
  """

let arguments = Array(CommandLine.arguments.dropFirst())
guard let suite = arguments.first else { fail(usage) }
let rest = Array(arguments.dropFirst())
switch suite {
case "fixtures": Fixtures.write(rest)
case "attach": AttachSuite.run(rest)
case "maps": MapSuite.run(rest)
case "percpu": PerCPUSuite.run(rest)
case "batch": BatchSuite.run(rest)
case "datapath": DataPathSuite.run(rest)
case "parse": ParseSuite.run(rest)
case "bulk": BulkSuite.run(rest)
case "reload": ReloadSuite.run(rest)
case "logging": LoggingSuite.run(rest)
case "btf": BTFSuite.run(rest)
case "dispatcher": DispatcherSuite.run(rest)
case "globals": GlobalsSuite.run(rest)
case "xsk": XSKSuite.run(rest)
case "syscalls": SyscallCount.run(rest)
case "report": Report.run(rest)
default: fail(usage)
}
