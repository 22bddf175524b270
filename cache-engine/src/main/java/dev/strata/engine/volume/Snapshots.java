package dev.strata.engine.volume;

import dev.strata.engine.objectlog.MapCheckpoint;
import dev.strata.engine.objectlog.ObjectReader;
import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.NoSuchObjectException;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.util.TextRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The bucket side of snapshots and clones: records, references, the delete protocol and
 * opening snapshot views. Every step's order and what a crash between steps leaves behind are
 * in docs/snapshots-and-clones.md.
 */
final class Snapshots {
    /** A chain of clones deeper than this is refused: each level is one more layer per read. */
    static final int MAX_DEPTH = 64;
    static final String REF_TYPE = "strata-snapshot-ref";
    private static final int HEADER_CACHE = 256;

    private Snapshots() {
    }

    /**
     * Stores a captured map as snapshot {@code name} of the volume: the map first, then the
     * record by conditional create, so a record never names a missing map. The caller has
     * uploaded every object up to {@code objectSeq}.
     */
    static SnapshotRecord write(ObjectStore store, VolumeKeys keys, String name, long objectSeq, long coveredSeq, long epoch,
            byte[] mapBody) throws IOException {
        VolumeKeys.validateSnapshotName(name);
        String recordKey = keys.snapshot(name);
        String mapKey = keys.snapshotMap(name, HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()));
        store.put(mapKey, ByteBuffer.wrap(mapBody));
        SnapshotRecord rec = new SnapshotRecord(keys.volume(), name, objectSeq, coveredSeq, epoch, mapKey, Instant.now());
        if (!store.putIfAbsent(recordKey, ByteBuffer.wrap(rec.encode()))) {
            // Our map is nobody's: remove it (a crash here would leave a harmless orphan).
            store.delete(mapKey);
            throw new SnapshotExistsException("snapshot " + name + " of volume " + keys.volume() + " already exists ("
                    + recordKey + ")");
        }
        return rec;
    }

    static SnapshotRecord record(ObjectStore store, String volume, String name) throws IOException {
        VolumeKeys keys = new VolumeKeys(volume);
        String key = keys.snapshot(name);
        try {
            return SnapshotRecord.decode(store.get(key), key);
        } catch (NoSuchObjectException e) {
            throw new SnapshotNotFoundException("volume " + volume + " has no snapshot " + name + " (" + key + " not found)");
        }
    }

    /** The volume's snapshots, in name order. */
    static List<SnapshotRecord> list(ObjectStore store, String volume) throws IOException {
        VolumeKeys keys = new VolumeKeys(volume);
        List<SnapshotRecord> out = new ArrayList<>();
        for (ObjectInfo info : store.list(keys.snapshotsPrefix())) {
            String rest = info.key().substring(keys.snapshotsPrefix().length());
            // Records are the keys without a dot or slash; maps, refs and markers all have one.
            if (rest.indexOf('.') < 0 && rest.indexOf('/') < 0) {
                try {
                    out.add(SnapshotRecord.decode(store.get(info.key()), info.key()));
                } catch (NoSuchObjectException deletedMeanwhile) {
                    // gone between LIST and GET
                }
            }
        }
        return out;
    }

    /** Names of the clones whose reference records say they read through snapshot {@code name}. */
    static List<String> clones(ObjectStore store, String volume, String name) throws IOException {
        VolumeKeys keys = new VolumeKeys(volume);
        String prefix = keys.snapshotRefsPrefix(name);
        List<String> out = new ArrayList<>();
        for (ObjectInfo info : store.list(prefix)) {
            out.add(info.key().substring(prefix.length()));
        }
        return out;
    }

    /**
     * Deletes a snapshot no clone reads from. The marker is written before the references are
     * listed and a clone checks for it after writing its reference: one of the two sees the other.
     */
    static void delete(ObjectStore store, String volume, String name) throws IOException {
        VolumeKeys keys = new VolumeKeys(volume);
        SnapshotRecord rec = record(store, volume, name);
        String marker = keys.snapshotDeleting(name);
        store.put(marker, ByteBuffer.wrap(("deleting " + Instant.now() + "\n").getBytes()));
        List<String> clones = clones(store, volume, name);
        if (!clones.isEmpty()) {
            store.delete(marker);
            throw new SnapshotInUseException("snapshot " + name + " of volume " + volume + " is read by clone(s) " + clones
                    + " (reference records under " + keys.snapshotRefsPrefix(name) + "); delete the clones first");
        }
        store.delete(keys.snapshot(name));
        store.delete(rec.mapKey());
        store.delete(marker);
    }

    /** Creates {@code clone} reading through {@code source@snapshot}; constant time, no data copied. */
    static Superblock clone(ObjectStore store, String source, String snapshot, String clone) throws IOException {
        VolumeKeys cloneKeys = new VolumeKeys(clone);
        VolumeKeys srcKeys = new VolumeKeys(source);
        if (exists(store, cloneKeys.superblock())) {
            throw new VolumeExistsException("volume " + clone + " already exists in " + store.describe());
        }
        Superblock src = superblock(store, source);
        record(store, source, snapshot);
        String ref = srcKeys.snapshotRef(snapshot, clone);
        Map<String, String> f = new LinkedHashMap<>();
        f.put("format", "1");
        f.put("volume", source);
        f.put("snapshot", snapshot);
        f.put("clone", clone);
        f.put("created", Instant.now().toString());
        store.put(ref, ByteBuffer.wrap(new TextRecord(REF_TYPE, f).encode()));
        // After the reference: a delete that started before it is visible now (its marker), one that
        // starts later will list the reference and refuse.
        boolean deleting = exists(store, srcKeys.snapshotDeleting(snapshot));
        boolean gone = !exists(store, srcKeys.snapshot(snapshot));
        if (deleting || gone) {
            store.delete(ref);
            throw new SnapshotNotFoundException("snapshot " + snapshot + " of volume " + source
                    + (gone ? " was deleted" : " is being deleted") + " while cloning it to " + clone);
        }
        Superblock sb = new Superblock(clone, UUID.randomUUID().toString(), src.sizeBytes(), Volume.SECTOR_SIZE,
                src.blockSize(), Instant.now(), source + "@" + snapshot);
        if (!store.putIfAbsent(cloneKeys.superblock(), ByteBuffer.wrap(sb.encode()))) {
            Superblock other = superblock(store, clone);
            if (!sb.parent().equals(other.parent())) {
                store.delete(ref);
            }
            throw new VolumeExistsException("volume " + clone + " already exists in " + store.describe());
        }
        return sb;
    }

    /** Opens snapshot {@code name} of {@code volume} read-only, with its parent chain if the volume is a clone. */
    static SnapshotView open(ObjectStore store, String volume, String name) throws IOException {
        return open(store, volume, name, 0);
    }

    /** The read-through layer under a clone, or null for a plain volume. */
    static SnapshotView parentOf(ObjectStore store, Superblock sb) throws IOException {
        return sb.parent() == null ? null : open(store, sb.parentVolume(), sb.parentSnapshot(), 1);
    }

    private static SnapshotView open(ObjectStore store, String volume, String name, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw new VolumeException("snapshot " + volume + "@" + name + ": clone chain deeper than " + MAX_DEPTH);
        }
        VolumeKeys keys = new VolumeKeys(volume);
        Superblock sb = superblock(store, volume);
        SnapshotRecord rec = record(store, volume, name);
        MapCheckpoint cp;
        try {
            cp = MapCheckpoint.decode(store.get(rec.mapKey()), volume, rec.mapKey());
        } catch (NoSuchObjectException e) {
            throw new CorruptDataException("snapshot " + volume + "@" + name + ": its map " + rec.mapKey() + " is missing");
        }
        if (cp.referencedSeq != rec.objectSeq() || cp.objectSeq != rec.coveredSeq()) {
            throw new CorruptDataException("snapshot " + volume + "@" + name + ": map " + rec.mapKey() + " covers objects "
                    + cp.objectSeq + ".." + cp.referencedSeq + ", the record says " + rec.coveredSeq() + ".." + rec.objectSeq());
        }
        SnapshotView parent = sb.parent() == null ? null : open(store, sb.parentVolume(), sb.parentSnapshot(), depth + 1);
        return new SnapshotView(rec, sb.sizeBytes(), cp.map, cp.objects, new ObjectReader(store, keys, HEADER_CACHE), parent);
    }

    private static Superblock superblock(ObjectStore store, String volume) throws IOException {
        VolumeKeys keys = new VolumeKeys(volume);
        try {
            return Superblock.decode(store.get(keys.superblock()), keys.superblock());
        } catch (NoSuchObjectException e) {
            throw new VolumeNotFoundException("no volume " + volume + " in " + store.describe());
        }
    }

    private static boolean exists(ObjectStore store, String key) throws IOException {
        try {
            store.get(key);
            return true;
        } catch (NoSuchObjectException e) {
            return false;
        }
    }
}
