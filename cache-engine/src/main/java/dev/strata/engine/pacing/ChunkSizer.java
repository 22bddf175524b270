package dev.strata.engine.pacing;

import java.util.Arrays;

/**
 * The chunk-size rule of a {@link WritebackPacer}, as pure logic so it can be tested by feeding
 * it wait durations.
 *
 * <p>The "wait" fed per chunk is the stall of the writer at a chunk boundary: the kick of the
 * new chunk ({@code sync_file_range(WRITE)} submits the I/O itself and blocks while the device
 * queue is full) plus the wait for the previous chunk and its fadvise. When the writer is faster
 * than the device (the case pacing exists for), that is about
 * {@code chunk / device bandwidth − chunk / memcpy rate}: linear in the chunk size. It is also
 * the stall that the one write crossing a chunk boundary sees. So the rule keeps the p95 stall
 * in a band [{@code growBelow}, {@code shrinkAbove}]:
 * <ul>
 * <li>after {@code window} waits at the current size, take their p95 (linear interpolation
 *     between the closest ranks, as numpy's default);</li>
 * <li>p95 &lt; growBelow: the device keeps up with room to spare; double the chunk (fewer
 *     syscalls, larger I/Os, and the boundary stall stays under 2 × growBelow);</li>
 * <li>p95 &gt; shrinkAbove: the boundary stall is too long; halve the chunk (which also halves
 *     the dirty page cache the file can hold);</li>
 * <li>clamp to [min, max]; after a change forget the window, because waits measured at the old
 *     size say nothing about the new one (otherwise one slow phase would shrink the chunk
 *     window-many times in a row).</li>
 * </ul>
 * This is the opposite direction from libfreemkv's pipeline (which grows chunks on slow storage
 * to amortise per-chunk overhead): our per-chunk overhead is two syscalls, microseconds, while
 * the boundary stall is what a block-device client sees as write latency.
 *
 * <p>Not thread-safe: owned by one pacer. No allocation after construction.
 */
public final class ChunkSizer {
    private final PacingPolicy policy;
    private final long growBelowNanos;
    private final long shrinkAboveNanos;
    private final long[] waits;
    private final long[] sorted;
    private int count;
    private long chunkBytes;
    private long lastP95Nanos = -1;
    private long resizes;

    public ChunkSizer(PacingPolicy policy) {
        this.policy = policy;
        this.growBelowNanos = policy.growBelow().toNanos();
        this.shrinkAboveNanos = policy.shrinkAbove().toNanos();
        this.waits = new long[policy.window()];
        this.sorted = new long[policy.window()];
        this.chunkBytes = policy.initialChunkBytes();
    }

    public long chunkBytes() {
        return chunkBytes;
    }

    /** The p95 of the last full window, or -1 before the first. */
    public long lastP95Nanos() {
        return lastP95Nanos;
    }

    public long resizes() {
        return resizes;
    }

    /**
     * Records the wait of one chunk finalised at the current size.
     *
     * @return true if the chunk size changed
     */
    public boolean record(long waitNanos) {
        waits[count++] = Math.max(0, waitNanos);
        if (count < waits.length) {
            return false;
        }
        long p95 = p95();
        lastP95Nanos = p95;
        long next = chunkBytes;
        if (p95 < growBelowNanos) {
            next = Math.min(chunkBytes * 2, policy.maxChunkBytes());
        } else if (p95 > shrinkAboveNanos) {
            next = Math.max((chunkBytes / 2) & -PacingPolicy.PAGE, policy.minChunkBytes());
        }
        if (next == chunkBytes) {
            // Keep sliding: drop the oldest sample, so the next decision comes after one more chunk.
            System.arraycopy(waits, 1, waits, 0, waits.length - 1);
            count--;
            return false;
        }
        chunkBytes = next;
        count = 0;
        resizes++;
        return true;
    }

    private long p95() {
        System.arraycopy(waits, 0, sorted, 0, count);
        Arrays.sort(sorted, 0, count); // small window: insertion sort, no allocation
        double h = (count - 1) * 0.95;
        int lo = (int) Math.floor(h);
        int hi = Math.min(lo + 1, count - 1);
        return Math.round(sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]));
    }
}
