package dev.strata.engine.volume;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.NoSuchObjectException;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Deletes a volume from the bucket, crash-safely (docs/format.md, "Deleting a volume"):
 * a {@code deleting} marker first (from then on the volume cannot be opened and its name
 * cannot be reused), then every other key under the volume's prefix, the superblock last but
 * one, the marker last. A crash anywhere leaves either the whole volume or a marked remainder
 * that another delete finishes.
 *
 * <p>Refused while a writer holds the volume, and while a clone reads through one of its
 * snapshots (the clone needs its objects: there is no reference counting of objects yet).
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

    /** @return the number of keys deleted */
    static int delete(ObjectStore store, String volume, String requester, ProgressListener progress) throws IOException {
        VolumeKeys keys = new VolumeKeys(volume);
        boolean resuming = isBeingDeleted(store, keys);
        Superblock sb = null;
        try {
            sb = Superblock.decode(store.get(keys.superblock()), keys.superblock());
        } catch (NoSuchObjectException e) {
            if (!resuming && !hasKeys(store, keys)) {
                throw new VolumeNotFoundException("no volume " + volume + " in " + store.describe());
            }
        }
        if (!resuming) {
            EpochHistory history = EpochHistory.load(store, keys);
            EpochRecord latest = history.latest();
            if (latest != null && !history.isReleased(latest.epoch())) {
                throw new VolumeLockedException("volume " + volume + " is held by " + latest.holderDescription()
                        + " (epoch " + latest.epoch() + "); close it (or open it with take-over and close it) before deleting",
                        latest.holderDescription());
            }
            for (SnapshotRecord snap : Snapshots.list(store, volume)) {
                List<String> clones = Snapshots.clones(store, volume, snap.snapshot());
                if (!clones.isEmpty()) {
                    throw new SnapshotInUseException("volume " + volume + " cannot be deleted: clones " + clones
                            + " read through its snapshot " + snap.snapshot() + "; delete them first");
                }
            }
            store.put(keys.deleting(), ByteBuffer.wrap(("deleting volume " + volume + " since " + Instant.now() + " by "
                    + requester + "\n").getBytes(StandardCharsets.UTF_8)));
        }
        if (sb != null && sb.parent() != null) {
            // A clone: its parent snapshot no longer needs to keep this reference.
            store.delete(new VolumeKeys(sb.parentVolume()).snapshotRef(sb.parentSnapshot(), volume));
        }
        List<String> rest = new ArrayList<>();
        for (ObjectInfo info : store.list(keys.prefix())) {
            if (!info.key().equals(keys.deleting()) && !info.key().equals(keys.superblock())) {
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
        store.delete(keys.superblock());
        store.delete(keys.deleting());
        LOG.log(System.Logger.Level.INFO, "deleted volume " + volume + " (" + (deleted + 2) + " keys)");
        return deleted + 2;
    }
}
