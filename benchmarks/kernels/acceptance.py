#!/usr/bin/env python3
"""Checks the two kernel acceptance figures of issue 3 with matmul_bench, in alternating rounds.

  1. Q4_K matvec 2048->11008, 2 threads, weights streamed from DRAM ("cold"), as a fraction of
     the STREAM-style read bandwidth of a 256 MiB buffer with 2 threads.
  2. Q4_K matmul 2048->11008 with 512 tokens vs 512 matvecs: tokens per second ratio.

Each round runs the read benchmark, the matvec and the matmul back to back, so a disturbance
from other work on the machine hits all three of that round. Prints every round and the median.

usage: acceptance.py path/to/matmul_bench [rounds] [isa]
"""
import json
import os
import statistics
import subprocess
import sys


def run(bench, pattern):
    out = subprocess.run([bench, f"--benchmark_filter={pattern}", "--benchmark_min_time=0.3",
                          "--benchmark_format=json"], check=True, capture_output=True, text=True)
    return {b["name"]: b for b in json.loads(out.stdout)["benchmarks"]}


def main():
    bench = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    isa = sys.argv[3] if len(sys.argv) > 3 else "avx512"
    bw_ratios, speedups = [], []
    for i in range(rounds):
        read = run(bench, "^read_bandwidth/256MiB/threads:2")
        mv = run(bench, f"^matvec/Q4_K/2048x11008/{isa}/threads:2/cold")
        mm = run(bench, f"^matmul/Q4_K/2048x11008/tokens:512/{isa}/threads:2")
        read_bw = next(iter(read.values()))["bytes_per_second"]
        mv_b = next(iter(mv.values()))
        mm_b = next(iter(mm.values()))
        bw_ratio = mv_b["bytes_per_second"] / read_bw
        speedup = mm_b["tok/s"] / mv_b["tok/s"]
        bw_ratios.append(bw_ratio)
        speedups.append(speedup)
        load = os.getloadavg()[0]
        print(f"round {i + 1} (load {load:.1f}): read {read_bw / 1e9:.2f} GB/s, matvec {mv_b['bytes_per_second'] / 1e9:.2f}"
              f" GB/s = {100 * bw_ratio:.0f}% of read; matvec {mv_b['tok/s']:.0f} tok/s,"
              f" matmul {mm_b['tok/s']:.0f} tok/s = {speedup:.1f}x per token", flush=True)
    print(f"median: matvec at {100 * statistics.median(bw_ratios):.0f}% of read bandwidth "
          f"(target >= 80%); matmul {statistics.median(speedups):.1f}x faster per token (target >= 5x)")


if __name__ == "__main__":
    main()
