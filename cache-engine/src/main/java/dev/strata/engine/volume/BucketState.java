package dev.strata.engine.volume;

import dev.strata.engine.extentmap.ExtentMap;
import dev.strata.engine.extentmap.Locations;
import dev.strata.engine.objectlog.ExtentKind;
import dev.strata.engine.objectlog.MapCheckpoint;
import dev.strata.engine.objectlog.ObjectHeader;
import dev.strata.engine.objectlog.ObjectReader;
import dev.strata.engine.objectlog.ObjectTable;
import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * A volume's state as the bucket has it: the newest valid map checkpoint, then the headers of
 * the objects after it, in sequence order, as long as the sequence has no gap. Objects past a
 * gap or fenced out are orphans: reported, never applied.
 */
public final class BucketState {
    private static final System.Logger LOG = System.getLogger(BucketState.class.getName());
    private static final int PARALLEL_HEADER_FETCHES = 16;
    private static final boolean CHECK_INVARIANTS = Boolean.getBoolean("strata.checkInvariants");

    public final ExtentMap map;
    public final ObjectTable objects;
    /** Highest object sequence number that is part of the volume (0: none). */
    public final long lastObjectSeq;
    /** Highest journal sequence number those objects hold (0: none). */
    public final long lastJournalSeq;
    public final long checkpointSeq;
    public final int objectsReplayed;
    public final List<String> orphans;

    private BucketState(ExtentMap map, ObjectTable objects, long lastObjectSeq, long lastJournalSeq, long checkpointSeq,
            int objectsReplayed, List<String> orphans) {
        this.map = map;
        this.objects = objects;
        this.lastObjectSeq = lastObjectSeq;
        this.lastJournalSeq = lastJournalSeq;
        this.checkpointSeq = checkpointSeq;
        this.objectsReplayed = objectsReplayed;
        this.orphans = orphans;
    }

    public static BucketState load(ObjectStore store, VolumeKeys keys, EpochHistory history) throws IOException {
        return load(store, keys, history, false);
    }

    /** @param clone the volume has a parent: trims and zeroes become ZERO extents that hide it */
    public static BucketState load(ObjectStore store, VolumeKeys keys, EpochHistory history, boolean clone) throws IOException {
        boolean[] unreadable = {false};
        MapCheckpoint cp = newestCheckpoint(store, keys, history, unreadable);
        ExtentMap map = cp != null ? cp.map : new ExtentMap();
        ObjectTable objects = cp != null ? cp.objects : new ObjectTable();
        long seq = cp != null ? cp.objectSeq : 0;
        long jseq = cp != null ? cp.lastJournalSeq : 0;

        // Candidates after the checkpoint: per sequence number, the one valid object (if any).
        TreeMap<Long, long[]> candidates = new TreeMap<>();
        List<String> orphans = new ArrayList<>();
        // Only the keys after the checkpoint's last object (of any epoch): a volume's open lists what
        // it replays, not every object it has (S3 seeks with start-after; keys sort by sequence number).
        for (ObjectInfo info : store.listAfter(keys.objectsPrefix(), keys.object(seq, -1L))) {
            long[] se = VolumeKeys.parseSeqEpoch(info.key(), keys.objectsPrefix());
            if (se == null || se[0] <= seq) {
                continue;
            }
            if (!history.isValid(se[0], se[1])) {
                orphans.add(info.key());
                continue;
            }
            long[] prev = candidates.get(se[0]);
            if (prev == null || prev[1] < se[1]) {
                candidates.put(se[0], se);
            }
        }
        if (cp == null && unreadable[0] && !candidates.isEmpty() && candidates.firstKey() != 1) {
            // Garbage collection deletes objects only once two checkpoints cover them: when those
            // are unreadable the log cannot be replayed from its start. Never guess. (With no
            // checkpoint at all, a missing first object is an upload a crash cut short.)
            throw new CorruptDataException(keys.volume() + ": objects start at " + candidates.firstKey()
                    + " and no readable map checkpoint covers the ones before (docs/gc.md)");
        }
        List<long[]> chain = new ArrayList<>();
        long expect = seq + 1;
        for (var e : candidates.entrySet()) {
            if (e.getKey() != expect) {
                break;
            }
            chain.add(e.getValue());
            expect++;
        }
        if (cp != null && seq + chain.size() < cp.referencedSeq) {
            throw new CorruptDataException(keys.checkpoint(cp.referencedSeq, cp.epoch) + ": points into object "
                    + cp.referencedSeq + " but the volume's objects end at " + (seq + chain.size()));
        }
        for (var e : candidates.tailMap(expect, true).values()) {
            orphans.add(keys.object(e[0], e[1]));
        }
        if (!orphans.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, keys.volume() + ": " + orphans.size()
                    + " objects are not part of the volume (fenced, or after a gap), e.g. " + orphans.getFirst());
        }

        try (ConcurrentFetches<ObjectHeader> headers = ConcurrentFetches.start(chain, PARALLEL_HEADER_FETCHES, "reading object headers",
                se -> ObjectReader.fetchHeader(store, keys.object(se[0], se[1])))) {
            for (int i = 0; i < chain.size(); i++) {
                ObjectHeader h = headers.get(i);
                String key = keys.object(chain.get(i)[0], chain.get(i)[1]);
                if (h.objectSeq != chain.get(i)[0] || h.epoch != chain.get(i)[1]) {
                    throw new CorruptDataException(key + ": header names object " + h.objectSeq + " of epoch " + h.epoch);
                }
                if (!h.isMoves() && jseq != 0 && h.firstJournalSeq != jseq + 1) {
                    throw new CorruptDataException(key + ": holds journal records from " + h.firstJournalSeq
                            + " but the object before it ended at " + jseq);
                }
                apply(map, h, clone);
                objects.add(h.objectSeq, h.epoch, h.headerBytes, h.dataBytes);
                if (!h.isMoves()) { // a GC object holds no journal records
                    jseq = h.lastJournalSeq;
                }
                seq = h.objectSeq;
            }
        }
        long checkpointCovered = cp != null ? cp.objectSeq : 0;
        long checkpointReferenced = cp != null ? cp.referencedSeq : 0;
        long chainEnd = seq;
        map.forEach((lba, sectors, location) -> {
            long objectSeq = Locations.objectSeq(location);
            ObjectTable.Entry e = objects.get(objectSeq);
            if (e != null) {
                e.liveSectors += sectors;
            } else if (CHECK_INVARIANTS && objectSeq > 0) {
                // Test builds: a loaded map points only into objects its table lists; if not, name what was loaded.
                throw new IllegalStateException(keys.volume() + ": loaded map points LBA " + lba + " into object " + objectSeq
                        + ", which is in no table: checkpoint covers " + checkpointCovered + ", references "
                        + checkpointReferenced + " (epoch " + (cp != null ? cp.epoch : 0) + "), chain ends at " + chainEnd);
            }
        });
        return new BucketState(map, objects, seq, jseq, cp != null ? cp.objectSeq : 0, chain.size(), orphans);
    }

    /** Replays one object's extents into the map, in the order they were written. */
    public static void apply(ExtentMap map, ObjectHeader h) {
        apply(map, h, false);
    }

    /** As {@link #apply(ExtentMap, ObjectHeader)}; in a clone a TRIM or ZERO extent maps to ZERO instead of unmapping. */
    public static void apply(ExtentMap map, ObjectHeader h, boolean clone) {
        for (int i = 0; i < h.extentCount; i++) {
            ExtentKind kind = h.kindOf(i);
            if (kind == ExtentKind.WRITE) {
                map.put(h.lba[i], h.sectors[i], Locations.pack(h.objectSeq, h.dataOffsetSectors[i]), null);
            } else if (kind == ExtentKind.MOVE) {
                map.moveIfAt(h.lba[i], h.sectors[i], h.sourceLocation[i], Locations.pack(h.objectSeq, h.dataOffsetSectors[i]), null);
            } else if (clone) {
                ZeroExtents.put(map, h.lba[i], h.sectors[i], null);
            } else {
                map.remove(h.lba[i], h.sectors[i], null);
            }
        }
    }

    /**
     * The newest valid, readable checkpoint. A listed checkpoint that is gone by the time it is
     * read was pruned by its writer after storing newer ones: list again, up to a few times,
     * rather than fall back to an older one (GC may have deleted what an older one needs).
     */
    private static MapCheckpoint newestCheckpoint(ObjectStore store, VolumeKeys keys, EpochHistory history, boolean[] unreadable)
            throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return newestListedCheckpoint(store, keys, history, unreadable);
            } catch (CheckpointVanished e) {
                if (attempt == 5) {
                    throw new CorruptDataException(keys.volume() + ": checkpoints keep vanishing while the volume is opened ("
                            + e.getMessage() + "); is another writer pruning them?");
                }
            }
        }
    }

    private static final class CheckpointVanished extends IOException {
        CheckpointVanished(String key) {
            super(key + " was deleted between LIST and GET");
        }
    }

    /** @param unreadable set when a valid checkpoint could not be read (corrupt) */
    private static MapCheckpoint newestListedCheckpoint(ObjectStore store, VolumeKeys keys, EpochHistory history, boolean[] unreadable)
            throws IOException {
        List<ObjectInfo> all = store.list(keys.checkpointsPrefix());
        for (int i = all.size() - 1; i >= 0; i--) {
            String key = all.get(i).key();
            long[] se = VolumeKeys.parseSeqEpoch(key, keys.checkpointsPrefix());
            if (se == null || !history.isValid(se[0], se[1])) {
                continue;
            }
            try {
                MapCheckpoint cp = MapCheckpoint.decode(store.get(key), keys.volume(), key);
                if (cp.referencedSeq != se[0]) {
                    throw new IOException(key + ": checkpoint says it references objects up to " + cp.referencedSeq);
                }
                return cp;
            } catch (dev.strata.engine.store.NoSuchObjectException gone) {
                throw new CheckpointVanished(key);
            } catch (IOException e) {
                if (e instanceof dev.strata.engine.store.ObjectStoreException) {
                    throw e;
                }
                LOG.log(System.Logger.Level.WARNING, "ignoring unreadable checkpoint " + key + ": " + e.getMessage());
                unreadable[0] = true;
            }
        }
        return null;
    }
}
