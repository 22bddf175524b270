package dev.strata.engine.readcache.sim;

import java.util.Arrays;

/**
 * A model of where the engine puts data, at 4 KiB page granularity: writes are appended to a log
 * cut into 8 MiB objects of 64 KiB blocks, the map sends each page to its newest copy, and an
 * object is inserted into the cache when it is complete (the engine fills the cache on upload).
 * Reads become lookups of the distinct blocks holding the pages they touch, in order — so an
 * overwritten page moves to a new block, as in the engine.
 */
final class LogLayout {
    static final int PAGE = 4096;
    static final int PAGES_PER_BLOCK = 16;
    static final int BLOCKS_PER_OBJECT = 128;
    private static final int PAGES_PER_OBJECT = PAGES_PER_BLOCK * BLOCKS_PER_OBJECT;

    private final long[] location;
    private final Trace trace;
    private long logPages;

    LogLayout(long volumePages, Trace trace) {
        this.location = new long[(int) volumePages];
        Arrays.fill(location, -1);
        this.trace = trace;
    }

    /** Trace block ids are {@code objectSeq << 8 | block in object}, as recorded from the engine. */
    static long id(long logBlock) {
        return (logBlock / BLOCKS_PER_OBJECT) << 8 | logBlock % BLOCKS_PER_OBJECT;
    }

    long pages() {
        return location.length;
    }

    void write(long page, int count) {
        for (int i = 0; i < count; i++) {
            location[(int) ((page + i) % location.length)] = logPages++;
            if (logPages % PAGES_PER_OBJECT == 0) {
                long firstBlock = logPages / PAGES_PER_BLOCK - BLOCKS_PER_OBJECT;
                for (int b = 0; b < BLOCKS_PER_OBJECT; b++) {
                    trace.fill(id(firstBlock + b));
                }
            }
        }
    }

    void read(long page, int count) {
        long last = -1;
        for (int i = 0; i < count; i++) {
            long loc = location[(int) ((page + i) % location.length)];
            if (loc < 0) {
                continue; // never written: zeros, no cache involved
            }
            long block = loc / PAGES_PER_BLOCK;
            // Pages still in the open (not yet uploaded) object are served from memory.
            if (block >= logPages / PAGES_PER_OBJECT * BLOCKS_PER_OBJECT) {
                continue;
            }
            if (block != last) {
                trace.read(id(block));
                last = block;
            }
        }
    }
}
