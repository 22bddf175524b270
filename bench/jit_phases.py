#!/usr/bin/env python3
"""Splits a flight recording's compilations and deoptimizations (jfr print --json) by the
cold-read bench's phase marks (stderr lines "phase NAME-start|NAME-end WALL_MS"): per phase,
the compile time against the phase's wall time; then the methods compiled in the last three
cold phases. Used by bench/read-cache-jit.sh."""
import collections
import datetime
import json
import sys

import phase_marks


def millis(iso):
    return datetime.datetime.fromisoformat(iso.replace('Z', '+00:00')).timestamp() * 1000


def seconds(duration):  # ISO-8601 durations as jfr prints them: PT0.0123S, PT1M2.5S
    d = duration[2:]
    total = 0.0
    for unit, factor in (('H', 3600), ('M', 60), ('S', 1)):
        if unit in d:
            head, d = d.split(unit, 1)
            total += float(head) * factor
    return total


def main(events_file, phases_file):
    phases = phase_marks.read(phases_file)

    def phase_of(t):
        for base, n, start, end in phases:
            if start <= t <= end:
                return (base, n)
        return None

    compile_ms, compiles, deopts = collections.defaultdict(float), collections.Counter(), collections.Counter()
    by_method = collections.defaultdict(collections.Counter)
    deopt_methods = collections.defaultdict(collections.Counter)
    for e in json.load(open(events_file))['recording']['events']:
        v = e['values']
        p = phase_of(millis(v['startTime']))
        if p is None:
            continue
        m = v.get('method')
        name = (m['type']['name'].replace('/', '.') + '.' + m['name']) if m else '?'
        if e['type'] == 'jdk.Compilation':
            ms = seconds(v['duration']) * 1000
            compile_ms[p] += ms
            compiles[p] += 1
            by_method[p][name + ' (tier ' + str(v['compileLevel']) + ')'] += ms
        else:
            deopts[p] += 1
            deopt_methods[p][name + ' ' + str(v.get('reason')) + '/' + str(v.get('action'))] += 1
    print('phase     round  wall_ms  compile_ms  compile/wall  compilations  deopts')
    for base, n, start, end in phases:
        p = (base, n)
        print(f'{base:9s} {n:5d} {end - start:8d} {compile_ms[p]:11.1f} {compile_ms[p] / max(1, end - start):13.2f} '
              f'{compiles[p]:13d} {deopts[p]:7d}')
    for p in [(b, n) for b, n, _, _ in phases if b == 'cold'][-3:]:
        print(f'== cold round {p[1]}: most compile time')
        for name, ms in by_method[p].most_common(10):
            print(f'  {ms:8.1f} ms  {name}')
        for name, c in deopt_methods[p].most_common(5):
            print(f'  deopt x{c}  {name}')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
