package dev.strata.engine.readcache.sim;

import java.util.Arrays;

/**
 * A block-access trace: each event is a cache lookup of a block by a read, or the insertion of a
 * block by an upload (the engine fills the cache with every object it uploads).
 * Encoded as {@code block << 1 | fill} in a growable long array.
 */
final class Trace {
    final String name;
    private long[] events = new long[1 << 16];
    private int size;
    long reads;

    Trace(String name) {
        this.name = name;
    }

    void read(long block) {
        add(block << 1);
        reads++;
    }

    void fill(long block) {
        add(block << 1 | 1);
    }

    private void add(long e) {
        if (size == events.length) {
            events = Arrays.copyOf(events, size * 2);
        }
        events[size++] = e;
    }

    int size() {
        return size;
    }

    long block(int i) {
        return events[i] >>> 1;
    }

    boolean isFill(int i) {
        return (events[i] & 1) != 0;
    }
}
