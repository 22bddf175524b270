#!/usr/bin/env python3
"""Splits `perf script` samples (with call chains) by ColdReadBench's phase marks and by owner.

usage: perf_phases.py PERF_TXT PHASES_TXT MONOTONIC_OFFSET_MS VOLUME_MIB ROUNDS [CPU]

PHASES_TXT holds the bench's stderr ("phase NAME-start|end WALL_MS" lines); the last ROUNDS
intervals of each phase are kept. A sample belongs to the S3 client if its call chain has AWS SDK
or Apache HttpClient frames, to the server if it has S3Proxy/jclouds/Jetty frames, to the engine if
it has dev.strata frames (the bench's own loop aside), else to its thread (the JIT compilers,
virtual-thread carriers "ForkJoinPool", idle "swapper"). K: the sample was in the kernel.
Printed per MiB read; at 499 Hz one sample per MiB is 2.0 ms of CPU per MiB. With CPU (the
samples carry a "[NNN]" CPU field), only that CPU's samples count: the reader's core when the server
runs on another (bench/read-cache-profile.sh ISOLATED=1).
"""
import collections
import re
import sys

import phase_marks

perf_txt, phases_txt, offset_ms, mib, rounds = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
only_cpu = int(sys.argv[6]) if len(sys.argv) > 6 else None

marks = collections.defaultdict(list)
for phase, _, start, end in phase_marks.read(phases_txt):
    marks[phase].append(((start - offset_ms) / 1000.0, (end - offset_ms) / 1000.0))
windows = [(p, a, b) for p, spans in marks.items() for a, b in spans[-rounds:]]

HEADER = re.compile(r"(.*?)\s+(-?\d+)\s+(?:\[(\d+)\]\s+)?([\d.]+):")


def samples():
    comm, cpu, t, frames = None, None, None, []
    for line in open(perf_txt):
        if not line.strip():
            continue
        if not line.startswith("\t"):
            if comm is not None and (only_cpu is None or cpu == only_cpu):
                yield comm, t, frames
            m = HEADER.match(line)
            comm, t, frames = m.group(1).strip(), float(m.group(4)), []
            cpu = int(m.group(3)) if m.group(3) is not None else None
        else:
            parts = line.strip().split(" ", 1)
            frames.append(parts[1] if len(parts) > 1 else "?")
    if comm is not None and (only_cpu is None or cpu == only_cpu):
        yield comm, t, frames


def owner(comm, frames):
    if comm == "swapper":
        return "idle"
    chain = " ".join(frames)
    kernel = "K" if frames and "[kernel" in frames[0] else "U"
    if "gaul" in chain or "jclouds" in chain or "eclipse.jetty" in chain:
        who = "S3Proxy"
    elif "software.amazon" in chain or "org.apache.http" in chain:
        who = "S3 client"
    elif "dev.strata.engine" in chain and "ColdReadBench.lambda$ceiling" not in chain:
        who = "engine"
    elif comm.startswith("ForkJoinPool"):
        who = "virtual-thread scheduling"
    elif comm.startswith("C1 Compiler") or comm.startswith("C2 Compiler"):
        who = "JIT compilers"
    else:
        who = "other"
    return f"{who} {kernel}"


counts = collections.defaultdict(collections.Counter)
for comm, t, frames in samples():
    for phase, a, b in windows:
        if a <= t <= b:
            counts[phase][owner(comm, frames)] += 1
            break
read = mib * rounds
for phase in sorted(counts):
    total = sum(counts[phase].values())
    print(f"== {phase}: {total / read:.2f} samples per MiB over {rounds} rounds of {mib} MiB")
    for who, n in sorted(counts[phase].items()):
        print(f"  {who:32s} {n / read:6.3f}")
