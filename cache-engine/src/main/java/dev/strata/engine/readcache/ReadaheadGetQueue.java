package dev.strata.engine.readcache;

import java.util.ArrayDeque;

/**
 * One volume's readahead GETs: at most {@code maxInFlight} run at a time, the others wait in the
 * order they were asked for, so a stream's nearest blocks come first (docs/read-cache.md,
 * "Readahead"). The readahead window holds twice as many GETs as may be in flight: GETs go on
 * while the reader catches up rather than each one waiting for the reader to move.
 *
 * <p>Concurrency: {@link #submit} never blocks (readers call it). Each running GET has a virtual
 * thread that, when its GET is done, takes the next waiting one, or ends. {@link #waiting} and
 * {@link #running} are guarded by this object's monitor; GETs run outside it.
 */
public final class ReadaheadGetQueue {
    private final int maxInFlight;
    /** Guarded by this. */
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    /** Guarded by this: GETs running now (virtual threads alive). */
    private int running;

    public ReadaheadGetQueue(int maxInFlight) {
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("readahead GETs in flight must be at least 1: " + maxInFlight);
        }
        this.maxInFlight = maxInFlight;
    }

    /** Runs {@code get} on a virtual thread now if fewer than the maximum run, else after the GETs submitted before it. */
    void submit(Runnable get) {
        synchronized (this) {
            if (running >= maxInFlight) {
                waiting.addLast(get);
                return;
            }
            running++;
        }
        Thread.ofVirtual().name("read-cache-readahead").start(() -> runFrom(get));
    }

    private void runFrom(Runnable first) {
        Runnable next = first;
        while (next != null) {
            try {
                next.run(); // catches its own failures: a failed readahead only costs the readahead
            } finally {
                synchronized (this) {
                    next = waiting.pollFirst();
                    if (next == null) {
                        running--;
                    }
                }
            }
        }
    }

    /** GETs waiting for one in flight to finish (tests, metrics). */
    synchronized int waiting() {
        return waiting.size();
    }
}
