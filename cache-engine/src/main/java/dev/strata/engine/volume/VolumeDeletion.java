package dev.strata.engine.volume;

import dev.strata.engine.extentmap.Locations;
import dev.strata.engine.objectlog.MapCheckpoint;
import dev.strata.engine.objectlog.ObjectTable;
import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.NoSuchObjectException;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Deletes a volume from the bucket, crash-safely and resumably (docs/format.md, "Deleting a
 * volume"; docs/snapshots-and-clones.md, "Deleting while clones read"): a {@code deleting}
 * marker first (from then on the volume is not listed, cannot be opened and its name cannot be
 * reused), then a pass ({@link #prune}) that deletes every key no clone needs.
 *
 * <p>If clones read through some of its snapshots, the pass keeps those snapshots' records, maps
 * and references, every object their maps point into, the superblock (a clone's parent chain
 * reads it), the volume's own reference on its parent if it is a clone, and the marker: the
 * volume's <em>remains</em>. When the last of those references goes
 * ({@link Snapshots#releaseReference}) the pass runs again and removes the rest, superblock and
 * marker last. A crash anywhere leaves the marker, and running the delete again (or releasing
 * another reference) finishes the job.
 *
 * <p>Refused while a writer holds the volume.
 */
final class VolumeDeletion {
    private static final System.Logger LOG = System.getLogger(VolumeDeletion.class.getName());

    private VolumeDeletion() {}

    /** True if {@code volume}'s prefix holds anything: a volume, or the remainder of a delete. */
    static boolean hasKeys(ObjectStore store, VolumeKeys keys) throws IOException {
        return !store.list(keys.prefix()).isEmpty();
    }

    static boolean isBeingDeleted(ObjectStore store, VolumeKeys keys) throws IOException {
        try {
            store.getRange(keys.deleting(), 0, ByteBuffer.allocate(1));
            return true;
        } catch (NoSuchObjectException e) {
            return false;
        }
    }

    /**
     * Deletes {@code volume}, or finishes an interrupted delete of it, telling {@code progress}
     * after each key this call deletes.
     *
     * @return the number of keys deleted by this call
     */
    static int delete(ObjectStore store, String volume, String requester, ProgressListener progress) throws IOException {
        VolumeKeys keys = new VolumeKeys(volume);
        if (!isBeingDeleted(store, keys)) {
            boolean hasSuperblock = Snapshots.exists(store, keys.superblock());
            if (!hasSuperblock && !hasKeys(store, keys)) {
                throw new VolumeNotFoundException("no volume " + volume + " in " + store.describe());
            }
            EpochHistory history = EpochHistory.load(store, keys);
            EpochRecord latest = history.latest();
            if (latest != null && !history.isReleased(latest.epoch())) {
                throw new VolumeLockedException("volume " + volume + " is held by " + latest.holderDescription()
                        + " (epoch " + latest.epoch() + "); close it (or open it with take-over and close it) before deleting",
                        latest.holderDescription());
            }
            store.put(keys.deleting(), ByteBuffer.wrap(new DeletionMarker(volume, null, requester, Instant.now()).encode()));
        }
        return prune(store, keys, progress);
    }

    /**
     * Clones that keep the remains of deleted volume {@code volume}, as {@code CLONE (via VOLUME@SNAPSHOT)};
     * empty if the volume is not marked deleted or nothing is kept.
     */
    static List<String> remainsKeptFor(ObjectStore store, VolumeKeys keys) throws IOException {
        List<String> out = new ArrayList<>();
        if (isBeingDeleted(store, keys)) {
            String prefix = keys.snapshotsPrefix();
            for (ObjectInfo info : store.list(prefix)) {
                String rest = info.key().substring(prefix.length());
                int refs = rest.indexOf(".refs/");
                if (refs > 0) {
                    out.add(rest.substring(refs + 6) + " (via " + keys.volume() + "@" + rest.substring(0, refs) + ")");
                }
            }
        }
        return out;
    }

    /**
     * One pass over a volume marked deleted: keeps what clones need, deletes the rest; with nothing
     * needed, releases the volume's reference on its parent (if a clone) and deletes everything,
     * the superblock and then the marker last. Idempotent; safe to run at any time under the marker.
     *
     * @return the number of keys deleted
     */
    static int prune(ObjectStore store, VolumeKeys keys, ProgressListener progress) throws IOException {
        String volume = keys.volume();
        Superblock sb = null;
        try {
            sb = Superblock.decode(store.get(keys.superblock()), keys.superblock());
        } catch (NoSuchObjectException e) {
            // deleted by an earlier pass: only the marker (and maybe stray keys) are left
        }
        List<ObjectInfo> all = store.list(keys.prefix());
        // Snapshot records and their references, from the one LIST.
        String snapPrefix = keys.snapshotsPrefix();
        Set<String> records = new TreeSet<>();
        Set<String> referenced = new TreeSet<>();
        // References older than Snapshots.STALE_REFERENCE whose clone does not exist are crashed
        // creations' leftovers (docs/snapshots-and-clones.md, "References left by a crashed clone").
        java.time.Instant now = java.time.Instant.now();
        for (ObjectInfo info : all) {
            if (info.key().startsWith(snapPrefix)) {
                String rest = info.key().substring(snapPrefix.length());
                int dot = rest.indexOf('.');
                if (dot < 0 && rest.indexOf('/') < 0) {
                    records.add(rest);
                } else if (dot > 0 && rest.startsWith(".refs/", dot)) {
                    String snapshot = rest.substring(0, dot);
                    if (!Snapshots.isStale(store, volume, snapshot, rest.substring(dot + 6), info.lastModified(), now)) {
                        referenced.add(snapshot);
                    }
                }
            }
        }
        referenced.retainAll(records); // a reference without a record is a failed clone's leftover
        Set<String> keep = new HashSet<>();
        keep.add(keys.deleting());
        keep.add(keys.superblock());
        for (String name : referenced) {
            keepSnapshot(store, keys, name, all, keep);
        }
        if (referenced.isEmpty() && sb != null && sb.parent() != null) {
            // Nothing of this clone is needed any more, so neither is its parent snapshot: release it
            // first (the superblock, which names the parent, is deleted last, so a crash re-runs this).
            Snapshots.releaseReference(store, sb.parentVolume(), sb.parentSnapshot(), volume);
        }
        List<String> rest = new ArrayList<>();
        for (ObjectInfo info : all) {
            if (!keep.contains(info.key())) {
                rest.add(info.key());
            }
        }
        int deleted = 0;
        for (String key : rest) {
            store.delete(key);
            progress.progress(deleted + 1, rest.size());
            if (++deleted % 1000 == 0) {
                LOG.log(System.Logger.Level.INFO, "deleting volume " + volume + ": " + deleted + " of " + rest.size() + " keys");
            }
        }
        if (!referenced.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "deleted volume " + volume + " (" + deleted + " keys); kept " + (keep.size() - 2)
                    + " keys of snapshot(s) " + referenced + " for the clones that read through them");
            return deleted;
        }
        store.delete(keys.superblock());
        store.delete(keys.deleting());
        LOG.log(System.Logger.Level.INFO, "deleted volume " + volume + " (" + (deleted + 2) + " keys)");
        return deleted + 2;
    }

    /**
     * Adds to {@code keep} what a referenced snapshot needs: its record, marker, references, map,
     * and every object its map points into (the map names objects by number; the epoch comes
     * from its table, or is the snapshot's own for objects after the table: SnapshotRecord).
     */
    private static void keepSnapshot(ObjectStore store, VolumeKeys keys, String name, List<ObjectInfo> all, Set<String> keep)
            throws IOException {
        String recordKey = keys.snapshot(name);
        SnapshotRecord rec;
        try {
            rec = SnapshotRecord.decode(store.get(recordKey), recordKey);
        } catch (NoSuchObjectException e) {
            return; // deleted meanwhile by another pass: nothing to keep
        }
        keep.add(recordKey);
        keep.add(keys.snapshotDeleting(name));
        keep.add(rec.mapKey());
        String refs = keys.snapshotRefsPrefix(name);
        for (ObjectInfo info : all) {
            if (info.key().startsWith(refs)) {
                keep.add(info.key());
            }
        }
        MapCheckpoint cp;
        try {
            cp = MapCheckpoint.decode(store.get(rec.mapKey()), keys.volume(), rec.mapKey());
        } catch (NoSuchObjectException e) {
            throw new CorruptDataException("volume " + keys.volume() + ": snapshot " + name + " is read by clones but its map "
                    + rec.mapKey() + " is missing; nothing deleted beyond what was already");
        }
        Set<Long> seqs = new HashSet<>();
        cp.map.forEach((lba, sectors, location) -> {
            long seq = Locations.objectSeq(location);
            if (seq != 0) {
                seqs.add(seq);
            }
        });
        Set<Long> anyEpoch = new HashSet<>();
        for (long seq : seqs) {
            ObjectTable.Entry e = cp.objects.get(seq);
            if (e != null) {
                keep.add(keys.object(seq, e.epoch));
            } else if (seq > rec.coveredSeq() && seq <= rec.objectSeq()) {
                keep.add(keys.object(seq, rec.epoch()));
            } else {
                anyEpoch.add(seq); // cannot happen for a valid snapshot; be conservative
            }
        }
        if (!anyEpoch.isEmpty()) {
            for (ObjectInfo info : all) {
                long[] se = VolumeKeys.parseSeqEpoch(info.key(), keys.objectsPrefix());
                if (se != null && anyEpoch.contains(se[0])) {
                    keep.add(info.key());
                }
            }
        }
    }
}
