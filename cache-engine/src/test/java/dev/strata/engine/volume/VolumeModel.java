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
 * are both ordered); {@link #matchPrefix} finds which. With the large-write bypass, a prefix
 * minus the bypassed writes whose objects never reached the bucket: the replay says how many
 * BYPASS records it found without their object, and those are the last bypassed writes of the
 * prefix (every object before the chain's end is in the bucket, none after it).
 */
final class VolumeModel {
    /**
     * One write (tags {@code tagBase + i}) or zeroing (tagBase 0) of [lba, lba + sectors);
     * {@code bypass}: a write whose data skipped the journal (one record: whole or lost).
     */
    record Op(long lba, int sectors, long tagBase, boolean bypass) {
        Op(long lba, int sectors, long tagBase) {
            this(lba, sectors, tagBase, false);
        }

        long tagAt(long sector) {
            return tagBase == 0 ? 0 : tagBase + (sector - lba);
        }
    }

    private long[] base;
    private final long[] current;
    private final List<Op> ops = new ArrayList<>();
    private int durableLocal;
    private int durableBucket;
    /** Set by the last {@link #matchPrefix} that matched a torn write: which operation, how many sectors of it. */
    private int tornOp = -1;
    private int tornSectors;
    /** Set by the last {@link #matchPrefix(long[], int, List)} that had lost bypassed writes: their indices, ascending. */
    private int[] lostOps;

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

    /** The state after the first k operations since the base. */
    long[] stateAfter(int k) {
        long[] work = base.clone();
        for (Op op : ops.subList(0, k)) {
            for (long s = op.lba; s < op.lba + op.sectors; s++) {
                work[(int) s] = op.tagAt(s);
            }
        }
        return work;
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
     * base equals {@code recovered} — where the k-th operation, not being durable, may also be
     * applied only to a prefix of its sectors (a torn write) — or -1 if there is none.
     */
    int matchPrefix(long[] recovered, int minOps) {
        tornOp = -1;
        lostOps = null;
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
                // A write that was never made durable may be torn: the engine splits large writes into
                // records in LBA order, and recovery may hold only the first of them.
                if (k >= minOps && !op.bypass && mismatches == 0 && s + 1 < op.lba + op.sectors) {
                    tornOp = k;
                    tornSectors = (int) (s + 1 - op.lba);
                    return k + 1;
                }
            }
        }
    }

    /**
     * Like {@link #matchPrefix(long[], int)}, where the recovery lost bypassed writes (BYPASS
     * records replayed without their object) over {@code lostRanges} ({lba, sectors} each, in
     * journal order): for each k, the last that many bypassed writes before k are left out, none
     * of them may be durable (below {@code minOps}), and they must have written exactly those
     * ranges. The ranges matter when a later write covers every lost one: the state then cannot
     * tell which bypassed writes were lost, and counting them alone picked the wrong ones — which
     * of them reached the bucket shows after a loss of the node
     * ({@code LostBypassedWritesAreMatchedByRangeTest}).
     */
    int matchPrefix(long[] recovered, int minOps, List<long[]> lostRanges) {
        return matchPrefix(recovered, minOps, lostRanges.size(), lostRanges);
    }

    private int matchPrefix(long[] recovered, int minOps, int lostBypassed, List<long[]> lostRanges) {
        if (lostBypassed == 0) {
            return matchPrefix(recovered, minOps);
        }
        tornOp = -1;
        lostOps = null;
        for (int k = Math.max(1, minOps); k <= ops.size(); k++) {
            int[] lost = lastBypassed(k, lostBypassed);
            if (lost == null || lost[0] < minOps || !rangesAre(lost, lostRanges)) {
                continue;
            }
            long[] work = base.clone();
            int li = 0;
            for (int i = 0; i < k - 1; i++) {
                if (li < lost.length && lost[li] == i) {
                    li++;
                    continue;
                }
                applyTo(work, ops.get(i));
            }
            int mismatches = 0;
            for (int s = 0; s < work.length; s++) {
                if (work[s] != recovered[s]) {
                    mismatches++;
                }
            }
            Op op = ops.get(k - 1);
            if (li < lost.length) { // the last one is lost too
                if (mismatches == 0) {
                    lostOps = lost;
                    return k;
                }
                continue;
            }
            for (long s = op.lba; s < op.lba + op.sectors; s++) {
                int i = (int) s;
                boolean was = work[i] != recovered[i];
                work[i] = op.tagAt(s);
                boolean is = work[i] != recovered[i];
                mismatches += (is ? 1 : 0) - (was ? 1 : 0);
                if (!op.bypass && k - 1 >= minOps && mismatches == 0 && s + 1 < op.lba + op.sectors) {
                    tornOp = k - 1;
                    tornSectors = (int) (s + 1 - op.lba);
                    lostOps = lost;
                    return k;
                }
            }
            if (mismatches == 0) {
                lostOps = lost;
                return k;
            }
        }
        return -1;
    }

    /** Whether ops {@code lost} wrote exactly {@code ranges} ({lba, sectors} each, same order). */
    private boolean rangesAre(int[] lost, List<long[]> ranges) {
        for (int i = 0; i < lost.length; i++) {
            Op op = ops.get(lost[i]);
            if (op.lba != ranges.get(i)[0] || op.sectors != ranges.get(i)[1]) {
                return false;
            }
        }
        return true;
    }

    /** The indices of the last {@code n} bypassed writes among the first k operations, ascending; null if fewer. */
    private int[] lastBypassed(int k, int n) {
        int[] out = new int[n];
        int found = 0;
        for (int i = k - 1; i >= 0 && found < n; i--) {
            if (ops.get(i).bypass) {
                out[n - 1 - found++] = i;
            }
        }
        return found == n ? out : null;
    }

    private static void applyTo(long[] work, Op op) {
        for (long s = op.lba; s < op.lba + op.sectors; s++) {
            work[(int) s] = op.tagAt(s);
        }
    }

    /**
     * After a local recovery to the state after the first k operations: later ones are gone,
     * the first k are durable on the node (replayed from its journal) but not necessarily in
     * the bucket, so the history is kept for a later loss of the node.
     */
    void truncate(int k) {
        ops.subList(k, ops.size()).clear();
        if (tornOp == k - 1 && k > 0) {
            Op torn = ops.get(k - 1);
            ops.set(k - 1, new Op(torn.lba, tornSectors, torn.tagBase, torn.bypass));
        }
        if (lostOps != null) { // they never happened, as far as the volume is concerned now
            for (int i = lostOps.length - 1; i >= 0; i--) {
                ops.remove(lostOps[i]);
            }
            k -= lostOps.length;
            lostOps = null;
        }
        System.arraycopy(base, 0, current, 0, current.length);
        for (Op op : ops) {
            for (long s = op.lba; s < op.lba + op.sectors; s++) {
                current[(int) s] = op.tagAt(s);
            }
        }
        durableLocal = k;
        durableBucket = Math.min(durableBucket, k);
    }

    /** After a recovery to a state that is wholly in the bucket: it is the new exact base. */
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
