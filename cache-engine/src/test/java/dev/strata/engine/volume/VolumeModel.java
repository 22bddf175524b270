package dev.strata.engine.volume;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The reference a volume is checked against: per sector, the tag of the write that last
 * touched it (0 = zeros), the operations since the last known-exact state, and how many of
 * them are durable locally (flushed, FUA) or in the bucket.
 *
 * <p>Strata recovers a prefix of the acknowledged operations (its journal and its object chain
 * are both ordered); {@link #matchPrefix} finds which.
 */
final class VolumeModel {
    /** One write (tags {@code tagBase + i}) or zeroing (tagBase 0) of [lba, lba + sectors). */
    record Op(long lba, int sectors, long tagBase) {
        long tagAt(long sector) {
            return tagBase == 0 ? 0 : tagBase + (sector - lba);
        }
    }

    private long[] base;
    private final long[] current;
    private final List<Op> ops = new ArrayList<>();
    private int durableLocal;
    private int durableBucket;

    VolumeModel(int sectors) {
        this.base = new long[sectors];
        this.current = new long[sectors];
    }

    void apply(Op op) {
        ops.add(op);
        for (long s = op.lba; s < op.lba + op.sectors; s++) {
            current[(int) s] = op.tagAt(s);
        }
    }

    long[] current() {
        return current;
    }

    /** Everything so far is durable on the node (FLUSH returned, or a FUA write completed: the journal is ordered). */
    void markDurableLocal() {
        durableLocal = ops.size();
    }

    /** Everything so far is in the bucket. */
    void markDurableBucket() {
        durableBucket = ops.size();
        durableLocal = ops.size();
    }

    int durableLocal() {
        return durableLocal;
    }

    int durableBucket() {
        return durableBucket;
    }

    int opCount() {
        return ops.size();
    }

    /**
     * The smallest k ≥ {@code minOps} such that the state after the first k operations since the
     * base equals {@code recovered}, or -1 if there is none.
     */
    int matchPrefix(long[] recovered, int minOps) {
        long[] work = base.clone();
        int mismatches = 0;
        for (int s = 0; s < work.length; s++) {
            if (work[s] != recovered[s]) {
                mismatches++;
            }
        }
        for (int k = 0; ; k++) {
            if (k >= minOps && mismatches == 0) {
                return k;
            }
            if (k == ops.size()) {
                return -1;
            }
            Op op = ops.get(k);
            for (long s = op.lba; s < op.lba + op.sectors; s++) {
                int i = (int) s;
                boolean was = work[i] != recovered[i];
                work[i] = op.tagAt(s);
                boolean is = work[i] != recovered[i];
                mismatches += (is ? 1 : 0) - (was ? 1 : 0);
            }
        }
    }

    /** After a recovery to the state after k operations: that state is the new exact base. */
    void rebase(long[] recovered) {
        base = recovered.clone();
        System.arraycopy(recovered, 0, current, 0, current.length);
        ops.clear();
        durableLocal = 0;
        durableBucket = 0;
    }

    static String describeDifference(long[] expected, long[] actual) {
        StringBuilder sb = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < expected.length && shown < 8; i++) {
            if (expected[i] != actual[i]) {
                sb.append(" sector ").append(i).append(": expected tag ").append(Long.toHexString(expected[i]))
                        .append(" got ").append(Long.toHexString(actual[i])).append(';');
                shown++;
            }
        }
        return sb.length() == 0 ? " (identical)" : sb.toString();
    }

    static boolean same(long[] a, long[] b) {
        return Arrays.equals(a, b);
    }
}
