package dev.strata.engine.volume;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.NoSuchObjectException;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * Every epoch record of a volume, and the fencing rule built on them: an object or checkpoint
 * numbered {@code seq} written by epoch {@code e} is part of the volume only if
 * {@code seq <= fenceOf(e)}, the fence recorded by the first epoch after {@code e}
 * (unbounded while {@code e} is the newest). See docs/format.md, "Epochs and fencing".
 */
public final class EpochHistory {
    private final TreeMap<Long, EpochRecord> records;
    private final Set<Long> released;

    private EpochHistory(TreeMap<Long, EpochRecord> records, Set<Long> released) {
        this.records = records;
        this.released = released;
    }

    /**
     * Epoch records fetched at once by {@link #load}: a volume has one per open for writing until
     * {@link EpochPruner} deletes those no open needs (it keeps the ones whose fence still judges
     * orphans, and those younger than GC's grace), and every open reads them all.
     */
    static final int CONCURRENT_GETS = 16;

    private static final String RELEASED = ".released";

    /**
     * A key of the volume's {@code epochs/}: a record, or the marker that its epoch was released;
     * {@code lastModified} by the store's clock (null if the store does not say).
     */
    record Listed(String key, long epoch, boolean released, java.time.Instant lastModified) {}

    /** The keys under {@code epochs/} that are ours (records and release markers), in key order. */
    static List<Listed> listEpochs(ObjectStore store, VolumeKeys keys) throws IOException {
        return parse(store.list(keys.epochsPrefix()), keys);
    }

    private static List<Listed> parse(List<ObjectInfo> listed, VolumeKeys keys) {
        List<Listed> out = new ArrayList<>();
        for (ObjectInfo info : listed) {
            String name = info.key().substring(keys.epochsPrefix().length());
            boolean rel = name.endsWith(RELEASED);
            try {
                out.add(new Listed(info.key(), Long.parseUnsignedLong(rel ? name.substring(0, name.length() - RELEASED.length()) : name, 16), rel,
                        info.lastModified()));
            } catch (NumberFormatException notOurs) {
                // not ours; ignore
            }
        }
        return out;
    }

    public static EpochHistory load(ObjectStore store, VolumeKeys keys) throws IOException {
        List<Listed> recordKeys = new ArrayList<>();
        Set<Long> released = new HashSet<>();
        for (Listed l : listEpochs(store, keys)) {
            if (l.released()) {
                released.add(l.epoch());
            } else {
                recordKeys.add(l);
            }
        }
        TreeMap<Long, EpochRecord> records = new TreeMap<>();
        try (ConcurrentFetches<EpochRecord> fetched = ConcurrentFetches.start(recordKeys, CONCURRENT_GETS, "reading epoch records",
                l -> fetch(store, l.key()))) {
            for (int i = 0; i < recordKeys.size(); i++) {
                EpochRecord r = fetched.get(i);
                if (r == null) {
                    continue; // deleted between list and get
                }
                if (r.epoch() != recordKeys.get(i).epoch()) {
                    throw new CorruptDataException(recordKeys.get(i).key() + ": record says epoch " + r.epoch());
                }
                records.put(r.epoch(), r);
            }
        }
        return new EpochHistory(records, released);
    }

    /**
     * Whether a writer of {@code epoch} is fenced, and by whom, from one LIST of the keys after
     * its own epoch's: the newest epoch record after {@code epoch}, or null if there is none.
     * Only that one record is fetched (for its holder), so a writer's periodic check costs a LIST
     * of the epochs newer than its own, however many the volume has had. A newer record that
     * cannot be read still fences: the answer is then a record naming the problem instead of a
     * holder.
     */
    public static EpochRecord newerThan(ObjectStore store, VolumeKeys keys, long epoch) throws IOException {
        Listed newest = null;
        // Keys sort by the epoch's 16 hex digits, and "E.released" sorts before E+1: start after it.
        for (Listed l : parse(store.listAfter(keys.epochsPrefix(), keys.epochReleased(epoch)), keys)) {
            if (!l.released() && l.epoch() > epoch && (newest == null || l.epoch() > newest.epoch())) { // ordered as load() orders them
                newest = l;
            }
        }
        if (newest == null) {
            return null;
        }
        String why;
        try {
            EpochRecord r = fetch(store, newest.key());
            if (r != null && r.epoch() == newest.epoch()) {
                return r;
            }
            why = newest.key() + ": " + (r == null ? "deleted since the listing" : "says epoch " + r.epoch());
        } catch (CorruptDataException e) {
            why = e.getMessage();
        }
        return new EpochRecord(newest.epoch(), "?", "an unknown holder (" + why + ")", -1, java.time.Instant.EPOCH);
    }

    /** One epoch record; null if it was deleted since the listing. */
    private static EpochRecord fetch(ObjectStore store, String key) throws IOException {
        try {
            return EpochRecord.decode(store.get(key), key);
        } catch (NoSuchObjectException gone) {
            return null;
        } catch (CorruptDataException e) {
            throw e;
        } catch (IOException e) {
            if (e instanceof dev.strata.engine.store.ObjectStoreException) {
                throw e;
            }
            throw new CorruptDataException(e.getMessage());
        }
    }

    public EpochRecord latest() {
        return records.isEmpty() ? null : records.lastEntry().getValue();
    }

    public long latestEpoch() {
        return records.isEmpty() ? 0 : records.lastKey();
    }

    /** The epochs that have a record, in order, each with its record. */
    java.util.NavigableMap<Long, EpochRecord> records() {
        return java.util.Collections.unmodifiableNavigableMap(records);
    }

    public boolean isReleased(long epoch) {
        return released.contains(epoch);
    }

    /** The last sequence number epoch {@code e} may have written, by the fence of the epoch after it. */
    public long fenceOf(long e) {
        var next = records.higherEntry(e);
        return next == null ? Long.MAX_VALUE : next.getValue().fenceObjectSeq();
    }

    public boolean isValid(long seq, long epoch) {
        return epoch <= latestEpoch() && seq <= fenceOf(epoch);
    }
}
