package dev.strata.engine.gc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Objects the extent map no longer points into, waiting until deleting them is safe, and the
 * checkpoints that decide when (docs/gc.md, "Deleting"):
 *
 * <ol>
 *   <li>both of the volume's retained map checkpoints were captured after the object was
 *       retired — whichever one a later open loads, its map does not point into the object and
 *       its replay starts after it;</li>
 *   <li>{@code grace} has passed since that became true — a node that started loading the
 *       volume before it has, by then, written its epoch record (or given up), so the fence
 *       check made just before deleting sees it.</li>
 * </ol>
 *
 * Captures are numbered by the volume in the order its map is captured (under its batch lock).
 * Thread safe (its own monitor); called by the GC thread and the checkpoint writer.
 */
public final class RetiredObjects {
    /** An object waiting to be deleted. {@code safeSinceNanos} is 0 until condition 1 holds. */
    public record Retired(long seq, long epoch, long retiredAtCapture, long safeSinceNanos) {}

    private final Map<Long, Retired> retired = new LinkedHashMap<>();
    /** Capture numbers of the two newest checkpoints this writer stored: [older, newer]; -1 = none (an open's checkpoint). */
    private long olderCapture = -1;
    private long newerCapture = -1;

    public synchronized void retire(long seq, long epoch, long capture) {
        retired.putIfAbsent(seq, new Retired(seq, epoch, capture, 0));
    }

    public synchronized boolean isRetired(long seq) {
        return retired.containsKey(seq);
    }

    public synchronized int size() {
        return retired.size();
    }

    /** A checkpoint of map capture {@code capture} was stored; the one before the previous is no longer retained. */
    public synchronized void checkpointStored(long capture, long nowNanos) {
        olderCapture = newerCapture;
        newerCapture = capture;
        for (var e : retired.entrySet()) {
            Retired r = e.getValue();
            if (r.safeSinceNanos == 0 && olderCapture > r.retiredAtCapture) {
                e.setValue(new Retired(r.seq, r.epoch, r.retiredAtCapture, Math.max(1, nowNanos)));
            }
        }
    }

    /** The objects that may be deleted now (after a fence check by the caller). */
    public synchronized List<Retired> deletable(long nowNanos, Duration grace) {
        List<Retired> out = new ArrayList<>();
        for (Retired r : retired.values()) {
            if (r.safeSinceNanos != 0 && nowNanos - r.safeSinceNanos >= grace.toNanos()) {
                out.add(r);
            }
        }
        return out;
    }

    public synchronized void deleted(long seq) {
        retired.remove(seq);
    }
}
