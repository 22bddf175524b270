package dev.strata.engine.readcache;

import java.util.ArrayDeque;

/**
 * Readahead runs kept in memory after their fill, so that the sequential reader they were
 * fetched for copies its blocks from memory rather than reading them back from the cache file
 * (a {@code pread} and a CRC check per block). Bounded: holding a run past {@code capacity}
 * releases the oldest (its flights leave the flight table, its buffer goes back to the pool);
 * a reader that comes later reads the block from the cache. Guarded by this object's monitor;
 * releases run outside it.
 */
final class HeldRuns {
    private final int capacity;
    private final ArrayDeque<Runnable> releases = new ArrayDeque<>();

    HeldRuns(int capacity) {
        this.capacity = capacity;
    }

    /**
     * Twice the readahead window (at least 8 runs): a reader is at most one window behind the
     * runs its readahead fetched, and a second stream may interleave with it.
     */
    static int capacityFor(ReadCacheConfig config) {
        return 2 * Math.max(4, config.readaheadGets());
    }

    /** Holds a run; {@code release} lets it go (removes its flights, releases its buffer). */
    void hold(Runnable release) {
        Runnable evicted = null;
        synchronized (this) {
            releases.addLast(release);
            if (releases.size() > capacity) {
                evicted = releases.pollFirst();
            }
        }
        if (evicted != null) {
            evicted.run();
        }
    }

    /** Lets every held run go (the cache is closing). */
    void releaseAll() {
        while (true) {
            Runnable r;
            synchronized (this) {
                r = releases.pollFirst();
            }
            if (r == null) {
                return;
            }
            r.run();
        }
    }
}
