package dev.strata.engine.volume;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Deletes the epoch records and release markers that no open of the volume can need any more,
 * so that opening a volume costs the same after its thousandth attach as after its first. Run by
 * a writer right after it created its own record; the rule and why it is safe are in
 * docs/format.md, "Pruning epoch records". Every deletion is justified on its own: an
 * interrupted run leaves a valid bucket.
 */
final class EpochPruner {
    private static final System.Logger LOG = System.getLogger(EpochPruner.class.getName());

    /** What one run deleted, and how many records it kept because an epoch left keys above their fence. */
    record Pruned(int records, int markers, int keptForOrphans) {}

    /** Above this many older records, every one is judged again (see {@link #prune}). */
    static final int SWEEP_ABOVE = 16;

    private EpochPruner() {}

    /** Whether {@code recordTime} is at least {@code grace} before {@code now} (both by the store's clock; unknown: no). */
    private static boolean agedBy(Instant recordTime, Instant now, Duration grace) {
        return recordTime != null && now != null && Duration.between(recordTime, now).compareTo(grace) >= 0;
    }

    /**
     * @param history  the epochs as the writer's open loaded them (before it created its record):
     *                 the fences of the records it may delete
     * @param own      the writer's epoch record, already in the bucket
     * @param grace    GC's delete grace: how long after a newer record an epoch may still upload
     */
    static Pruned prune(ObjectStore store, VolumeKeys keys, EpochHistory history, EpochRecord own, Duration grace)
            throws IOException {
        Instant ownListed = null;
        TreeMap<Long, Instant> olderRecords = new TreeMap<>();
        List<String> markers = new ArrayList<>();
        for (EpochHistory.Listed l : EpochHistory.listEpochs(store, keys)) {
            if (l.released()) {
                if (l.epoch() < own.epoch()) {
                    markers.add(l.key()); // only the newest epoch's marker is ever read
                }
            } else if (l.epoch() == own.epoch()) {
                ownListed = l.lastModified();
            } else if (l.epoch() < own.epoch()) {
                olderRecords.put(l.epoch(), l.lastModified());
            }
        }
        if (ownListed == null) {
            // Our record is gone (the volume is being deleted) or the store gives no times: no clock to judge by.
            return new Pruned(0, 0, 0);
        }

        // Record j -> its fence, for the records whose epoch j-1 has had the grace to stop uploading
        // since this writer's open, and not already before the previous writer's: that writer's
        // pruning judged those, and the ones it kept are kept for orphans, which stay. (So a record
        // kept for an old orphan does not make every open list every object written since.) A
        // volume with more than SWEEP_ABOVE records judges them all again: a pruning that never
        // ran or was cut short leaves records behind that no later one would otherwise judge.
        NavigableMap<Long, EpochRecord> known = history.records();
        var previous = olderRecords.lastEntry(); // the previous writer's record: its pruning judged the records before it
        boolean sweep = olderRecords.size() > SWEEP_ABOVE;
        TreeMap<Long, Long> candidates = new TreeMap<>();
        for (var e : olderRecords.entrySet()) {
            long j = e.getKey();
            EpochRecord r = known.get(j);
            if (r == null) {
                continue; // not in the history this writer loaded: its fence is unknown here
            }
            boolean agedNow = agedBy(e.getValue(), ownListed, grace);
            boolean agedBefore = j < previous.getKey() && agedBy(e.getValue(), previous.getValue(), grace);
            if ((j == 1 || (agedNow && (sweep || !agedBefore))) && fencesNeverDecreaseAfter(j, r.fenceObjectSeq(), known, own)) {
                candidates.put(j, r.fenceObjectSeq());
            }
        }

        // A key of epoch j-1 numbered above fence(j) is an orphan that only record j keeps out.
        int keptForOrphans = 0;
        long lowest = candidates.tailMap(1L, false).values().stream().mapToLong(Long::longValue).min().orElse(Long.MAX_VALUE);
        if (lowest != Long.MAX_VALUE) { // record 1 needs no listing: there is no epoch 0
            List<ObjectInfo> keysToJudge = new ArrayList<>(store.listAfter(keys.objectsPrefix(), keys.object(lowest, -1L)));
            int objects = keysToJudge.size();
            keysToJudge.addAll(store.list(keys.checkpointsPrefix()));
            for (int i = 0; i < keysToJudge.size(); i++) {
                String prefix = i < objects ? keys.objectsPrefix() : keys.checkpointsPrefix();
                long[] se = VolumeKeys.parseSeqEpoch(keysToJudge.get(i).key(), prefix);
                if (se == null) {
                    continue;
                }
                Long fence = candidates.get(se[1] + 1);
                if (fence != null && se[0] > fence) {
                    candidates.remove(se[1] + 1);
                    keptForOrphans++;
                }
            }
        }

        for (long j : candidates.keySet()) {
            store.delete(keys.epoch(j));
        }
        for (String marker : markers) {
            store.delete(marker);
        }
        if (!candidates.isEmpty() || !markers.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, keys.volume() + ": pruned " + candidates.size() + " epoch records and "
                    + markers.size() + " release markers no open needs" + (keptForOrphans > 0
                            ? "; kept " + keptForOrphans + " whose fence still excludes a fenced epoch's objects" : ""));
        }
        return new Pruned(candidates.size(), markers.size(), keptForOrphans);
    }

    /**
     * Deleting record j hands epoch j-1 to the fence of a later record: safe only if none is lower.
     * It never is (each fence is the end of the valid chain, which only grows); checked anyway, so
     * that a broken assumption keeps records instead of reviving orphans.
     */
    private static boolean fencesNeverDecreaseAfter(long j, long fence, NavigableMap<Long, EpochRecord> known, EpochRecord own) {
        for (EpochRecord later : known.tailMap(j, false).values()) {
            if (later.fenceObjectSeq() < fence) {
                return false;
            }
        }
        return own.fenceObjectSeq() >= fence;
    }
}
