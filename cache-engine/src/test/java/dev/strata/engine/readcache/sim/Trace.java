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

    /** Loads a trace recorded from the engine (csi-node's CacheTraceRecorder): big-endian longs {@code id << 1 | uploaded}. */
    static Trace load(java.nio.file.Path file) throws java.io.IOException {
        String n = file.getFileName().toString().replace(".trace", "") + " (recorded)";
        Trace t = new Trace(n);
        try (var in = new java.io.DataInputStream(new java.io.BufferedInputStream(java.nio.file.Files.newInputStream(file), 1 << 16))) {
            long count = java.nio.file.Files.size(file) / 8;
            for (long i = 0; i < count; i++) {
                long e = in.readLong();
                if ((e & 1) != 0) {
                    t.fill(e >>> 1);
                } else {
                    t.read(e >>> 1);
                }
            }
        }
        return t;
    }

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
