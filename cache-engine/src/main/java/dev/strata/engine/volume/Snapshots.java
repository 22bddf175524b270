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
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
        // A deleted snapshot's name stays reserved while its marker exists (clones still read it, or
        // its delete was interrupted): a new record under it would be born hidden.
        if (exists(store, keys.snapshotDeleting(name))) {
            throw reserved(store, keys.volume(), name);
        }
        String mapKey = keys.snapshotMap(name, HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()));
        store.put(mapKey, ByteBuffer.wrap(mapBody));
        SnapshotRecord rec = new SnapshotRecord(keys.volume(), name, objectSeq, coveredSeq, epoch, mapKey, Instant.now());
        if (!store.putIfAbsent(recordKey, ByteBuffer.wrap(rec.encode()))) {
            // Our map is nobody's: remove it (a crash here would leave a harmless orphan).
            store.delete(mapKey);
            if (exists(store, keys.snapshotDeleting(name))) {
                throw reserved(store, keys.volume(), name);
            }
            throw new SnapshotExistsException("snapshot " + name + " of volume " + keys.volume() + " already exists ("
                    + recordKey + ")");
        }
        return rec;
    }

    /** The error for a name held by a deleted snapshot. */
    private static SnapshotExistsException reserved(ObjectStore store, String volume, String name) throws IOException {
        List<String> clones = clones(store, volume, name);
        VolumeKeys keys = new VolumeKeys(volume);
        return new SnapshotExistsException("snapshot " + name + " of volume " + volume + " was deleted, but "
                + (clones.isEmpty() ? "its delete is unfinished; run the delete of " + volume + "@" + name + " again to finish it"
                        : "clone(s) " + clones + " still read through it: the name stays reserved until they are deleted")
                + " (" + keys.snapshotDeleting(name) + ")");
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

    /** The volume's snapshots in name order, without deleted ones that clones still keep (see {@link #listAll}). */
    static List<SnapshotRecord> list(ObjectStore store, String volume) throws IOException {
        List<SnapshotRecord> out = new ArrayList<>();
        for (Retained r : listAll(store, volume)) {
            if (!r.deleted()) {
                out.add(r.record());
            }
        }
        return out;
    }

    /**
     * A snapshot record and what the bucket says about it.
     *
     * @param deleted its {@code .deleting} marker exists: hidden from users, kept while {@code clones} is not empty
     * @param clones  the clones whose reference records name it, in name order
     */
    record Retained(SnapshotRecord record, boolean deleted, List<String> clones) {}

    /**
     * Every snapshot record of the volume, in name order, including deleted ones that clones keep:
     * what a garbage collector must treat as live (every object their maps point into). One LIST
     * plus one GET per record.
     */
    static List<Retained> listAll(ObjectStore store, String volume) throws IOException {
        VolumeKeys keys = new VolumeKeys(volume);
        String prefix = keys.snapshotsPrefix();
        List<String> names = new ArrayList<>();
        Set<String> deleted = new HashSet<>();
        Map<String, List<String>> refs = new HashMap<>();
        for (ObjectInfo info : store.list(prefix)) {
            String rest = info.key().substring(prefix.length());
            int dot = rest.indexOf('.');
            // Records are the keys without a dot or slash; maps, refs and markers all have one.
            if (dot < 0 && rest.indexOf('/') < 0) {
                names.add(rest);
            } else if (dot > 0 && rest.substring(dot).equals(".deleting")) {
                deleted.add(rest.substring(0, dot));
            } else if (dot > 0 && rest.startsWith(".refs/", dot)) {
                refs.computeIfAbsent(rest.substring(0, dot), k -> new ArrayList<>()).add(rest.substring(dot + 6));
            }
        }
        List<Retained> out = new ArrayList<>();
        for (String name : names) {
            String key = prefix + name;
            try {
                out.add(new Retained(SnapshotRecord.decode(store.get(key), key), deleted.contains(name),
                        List.copyOf(refs.getOrDefault(name, List.of()))));
            } catch (NoSuchObjectException deletedMeanwhile) {
                // gone between LIST and GET
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
     * A reference older than this whose clone has no superblock naming the snapshot is a crashed
     * clone creation's leftover, not a creation in progress (which takes a few requests), and stops
     * keeping the snapshot (docs/snapshots-and-clones.md, "References left by a crashed clone").
     */
    static final java.time.Duration STALE_REFERENCE = java.time.Duration.ofHours(1);

    /**
     * The clones that really read through {@code volume@name}, for deciding whether a deletion may
     * remove it: every reference younger than {@link #STALE_REFERENCE} (its listing time against
     * this node's clock), and every older one whose clone's superblock names this snapshot as its
     * parent. A reference the store gives no time for counts. Only the age is judged by a clock,
     * and only to spare creations in progress: a creation whose reference was judged a leftover
     * finds out after its superblock and undoes itself ({@link #clone}), whatever the clocks say.
     */
    static List<String> liveClones(ObjectStore store, String volume, String name) throws IOException {
        Instant now = Instant.now();
        String prefix = new VolumeKeys(volume).snapshotRefsPrefix(name);
        List<String> out = new ArrayList<>();
        for (ObjectInfo info : store.list(prefix)) {
            String clone = info.key().substring(prefix.length());
            if (!isStale(store, volume, name, clone, info.lastModified(), now)) {
                out.add(clone);
            }
        }
        return out;
    }

    /**
     * Whether a reference of {@code clone} listed with time {@code referenceTime} is, at {@code now},
     * a crashed clone creation's leftover (see {@link #liveClones}).
     */
    static boolean isStale(ObjectStore store, String volume, String name, String clone, java.time.Instant referenceTime,
            java.time.Instant now) throws IOException {
        if (referenceTime == null || java.time.Duration.between(referenceTime, now).compareTo(STALE_REFERENCE) < 0) {
            return false;
        }
        VolumeKeys cloneKeys = new VolumeKeys(clone);
        try {
            Superblock sb = Superblock.decode(store.get(cloneKeys.superblock()), cloneKeys.superblock());
            return !(volume + "@" + name).equals(sb.parent());
        } catch (NoSuchObjectException none) {
            return true;
        }
    }

    /** True if the snapshot's {@code .deleting} marker exists: deleted from the user's view. */
    static boolean isDeleted(ObjectStore store, String volume, String name) throws IOException {
        return exists(store, new VolumeKeys(volume).snapshotDeleting(name));
    }

    /**
     * Deletes snapshot {@code name}: marker first, then the references are listed. With none, the
     * map, the record and the marker go. With some, the snapshot stays in the bucket, hidden
     * (marked), until the last clone's reference goes ({@link #releaseReference}). A clone checks
     * for the marker after writing its reference: one of the two sees the other. Running it again
     * on a marked snapshot finishes what a crash left.
     *
     * @return the clones that still read through the snapshot (empty: it is gone)
     */
    static List<String> delete(ObjectStore store, String volume, String name, String requester) throws IOException {
        VolumeKeys keys = new VolumeKeys(volume);
        String marker = keys.snapshotDeleting(name);
        SnapshotRecord rec;
        try {
            rec = SnapshotRecord.decode(store.get(keys.snapshot(name)), keys.snapshot(name));
        } catch (NoSuchObjectException e) {
            if (exists(store, marker)) {
                store.delete(marker); // an interrupted finish: the map and the record are gone already
                return List.of();
            }
            throw new SnapshotNotFoundException("volume " + volume + " has no snapshot " + name + " (" + keys.snapshot(name)
                    + " not found)");
        }
        if (!exists(store, marker)) {
            store.put(marker, ByteBuffer.wrap(new DeletionMarker(volume, name, requester, Instant.now()).encode()));
        }
        List<String> clones = liveClones(store, volume, name);
        if (clones.isEmpty()) {
            finish(store, keys, rec);
        }
        return clones;
    }

    /** The last steps of a snapshot delete, under its marker, with no reference left: map, record, marker. */
    private static void finish(ObjectStore store, VolumeKeys keys, SnapshotRecord rec) throws IOException {
        // Map before record is safe here: the marker hides the record from every new reader, and no
        // clone reads it (no live reference). A crash after the map leaves a marked record: a rerun finishes.
        store.delete(rec.mapKey());
        store.delete(keys.snapshot(rec.snapshot()));
        for (ObjectInfo stale : store.list(keys.snapshotRefsPrefix(rec.snapshot()))) {
            store.delete(stale.key()); // crashed clone creations' leftovers (a live one would have kept the snapshot)
        }
        store.delete(keys.snapshotDeleting(rec.snapshot()));
    }

    /**
     * Clone {@code clone} no longer reads through {@code volume@name}: deletes its reference, then
     * finishes whatever was waiting for it: the snapshot's delete if it is marked and this was
     * its last reference; the volume's remains if the volume is marked deleted (which may in turn
     * release the volume's own reference on its parent).
     */
    static void releaseReference(ObjectStore store, String volume, String name, String clone) throws IOException {
        VolumeKeys keys = new VolumeKeys(volume);
        store.delete(keys.snapshotRef(name, clone));
        if (VolumeDeletion.isBeingDeleted(store, keys)) {
            VolumeDeletion.prune(store, keys, ProgressListener.NONE);
            return;
        }
        if (exists(store, keys.snapshotDeleting(name)) && liveClones(store, volume, name).isEmpty()) {
            try {
                finish(store, keys, SnapshotRecord.decode(store.get(keys.snapshot(name)), keys.snapshot(name)));
            } catch (NoSuchObjectException gone) {
                store.delete(keys.snapshotDeleting(name));
            }
        }
    }

    /** Creates {@code clone} reading through {@code source@snapshot}; constant time, no data copied. */
    static Superblock clone(ObjectStore store, String source, String snapshot, String clone) throws IOException {
        VolumeKeys cloneKeys = new VolumeKeys(clone);
        VolumeKeys srcKeys = new VolumeKeys(source);
        Superblock src = superblock(store, source);
        SnapshotRecord parent = record(store, source, snapshot);
        String ref = srcKeys.snapshotRef(snapshot, clone);
        Map<String, String> f = new LinkedHashMap<>();
        f.put("format", "1");
        f.put("volume", source);
        f.put("snapshot", snapshot);
        f.put("clone", clone);
        f.put("created", Instant.now().toString());
        store.put(ref, ByteBuffer.wrap(new TextRecord(REF_TYPE, f).encode()));
        // After the reference: a delete (of the snapshot or of the whole source volume) that started
        // before it is visible now (its marker); one that starts later lists the reference and keeps
        // the snapshot.
        String why = noLongerClonable(store, srcKeys, parent);
        if (why != null) {
            releaseReference(store, source, snapshot, clone);
            throw new SnapshotNotFoundException(why + " while cloning it to " + clone);
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
        // Again, after the superblock: a delete that judged our reference stale (this creation paused
        // for over STALE_REFERENCE between the two) wrote its marker before this check, or it saw
        // the superblock. So either the snapshot is still what we cloned, or we undo the clone.
        why = noLongerClonable(store, srcKeys, parent);
        if (why != null) {
            store.delete(cloneKeys.superblock());
            releaseReference(store, source, snapshot, clone);
            throw new SnapshotNotFoundException(why + " while cloning it to " + clone + "; the clone was not created");
        }
        return sb;
    }

    /**
     * Why a clone of the snapshot whose record a clone creation read ({@code cloned}) cannot go on,
     * or null if it can: its volume or the snapshot is being deleted, or the record is gone or is
     * another one (identified by its map: deleted and made again under the same name).
     */
    private static String noLongerClonable(ObjectStore store, VolumeKeys srcKeys, SnapshotRecord cloned) throws IOException {
        String name = cloned.snapshot();
        if (VolumeDeletion.isBeingDeleted(store, srcKeys)) {
            return "volume " + srcKeys.volume() + " was deleted";
        }
        if (exists(store, srcKeys.snapshotDeleting(name))) {
            return "snapshot " + name + " of volume " + srcKeys.volume() + " is deleted";
        }
        try {
            String key = srcKeys.snapshot(name);
            return SnapshotRecord.decode(store.get(key), key).mapKey().equals(cloned.mapKey()) ? null
                    : "snapshot " + name + " of volume " + srcKeys.volume() + " was deleted and made again";
        } catch (NoSuchObjectException gone) {
            return "snapshot " + name + " of volume " + srcKeys.volume() + " was deleted";
        }
    }

    /**
     * Opens snapshot {@code name} of {@code volume} read-only, with its parent chain if the volume is
     * a clone. Refused for a deleted snapshot (or one of a deleted volume), even if clones keep it:
     * only they read it, through their parent chain.
     */
    static SnapshotView open(ObjectStore store, String volume, String name) throws IOException {
        if (isDeleted(store, volume, name)) {
            throw new SnapshotNotFoundException("snapshot " + name + " of volume " + volume + " was deleted"
                    + describeKeepers(store, volume, name));
        }
        return open(store, volume, name, 0);
    }

    /** ", kept while clones [..] read through it", or "" if none does. */
    static String describeKeepers(ObjectStore store, String volume, String name) throws IOException {
        List<String> clones = clones(store, volume, name);
        return clones.isEmpty() ? "" : " (kept in the bucket while clone(s) " + clones + " read through it)";
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

    static Superblock superblock(ObjectStore store, String volume) throws IOException {
        VolumeKeys keys = new VolumeKeys(volume);
        try {
            return Superblock.decode(store.get(keys.superblock()), keys.superblock());
        } catch (NoSuchObjectException e) {
            throw new VolumeNotFoundException("no volume " + volume + " in " + store.describe());
        }
    }

    static boolean exists(ObjectStore store, String key) throws IOException {
        try {
            store.get(key);
            return true;
        } catch (NoSuchObjectException e) {
            return false;
        }
    }
}
