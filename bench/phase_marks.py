"""The phase marks ColdReadBench prints on stderr ("phase NAME-start|NAME-end WALL_MS" lines),
read once for bench/perf_phases.py and bench/jit_phases.py."""
import collections


def read(path):
    """(phase, round, start_ms, end_ms) of every marked interval, in the order they started;
    rounds count from 1 for each phase name."""
    opened, rounds, out = {}, collections.Counter(), []
    for line in open(path):
        if line.startswith('phase '):
            _, name, wall = line.split()
            phase, edge = name.rsplit('-', 1)
            if edge == 'start':
                opened[phase] = int(wall)
            else:
                rounds[phase] += 1
                out.append((phase, rounds[phase], opened.pop(phase), int(wall)))
    out.sort(key=lambda w: w[2])
    return out
