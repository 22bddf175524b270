package dev.strata.engine.volume;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.NoSuchObjectException;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.util.HashSet;
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

    public static EpochHistory load(ObjectStore store, VolumeKeys keys) throws IOException {
        TreeMap<Long, EpochRecord> records = new TreeMap<>();
        Set<Long> released = new HashSet<>();
        for (ObjectInfo info : store.list(keys.epochsPrefix())) {
            String name = info.key().substring(keys.epochsPrefix().length());
            boolean rel = name.endsWith(".released");
            String num = rel ? name.substring(0, name.length() - ".released".length()) : name;
            long epoch;
            try {
                epoch = Long.parseUnsignedLong(num, 16);
            } catch (NumberFormatException e) {
                continue; // not ours; ignore
            }
            if (rel) {
                released.add(epoch);
            } else {
                try {
                    EpochRecord r = EpochRecord.decode(store.get(info.key()), info.key());
                    if (r.epoch() != epoch) {
                        throw new CorruptDataException(info.key() + ": record says epoch " + r.epoch());
                    }
                    records.put(epoch, r);
                } catch (NoSuchObjectException gone) {
                    // deleted between list and get
                } catch (CorruptDataException e) {
                    throw e;
                } catch (IOException e) {
                    if (e instanceof dev.strata.engine.store.ObjectStoreException) {
                        throw e;
                    }
                    throw new CorruptDataException(e.getMessage());
                }
            }
        }
        return new EpochHistory(records, released);
    }

    public EpochRecord latest() {
        return records.isEmpty() ? null : records.lastEntry().getValue();
    }

    public long latestEpoch() {
        return records.isEmpty() ? 0 : records.lastKey();
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

    /** True when an epoch newer than {@code epoch} exists. */
    public boolean isFenced(long epoch) {
        return latestEpoch() > epoch;
    }
}
