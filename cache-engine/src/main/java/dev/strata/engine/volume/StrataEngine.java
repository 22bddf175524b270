package dev.strata.engine.volume;

import dev.strata.engine.journal.Journal;
import dev.strata.engine.journal.JournalReplayer;
import dev.strata.engine.journal.ReplayResult;
import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.readcache.ReadCache;
import dev.strata.engine.store.NoSuchObjectException;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A node's engine: one object store (the bucket) and one local directory (journals, node
 * identity, locks). Creates volumes and opens them for reading or writing — the entry point
 * the NBD server, the command line and later the CSI services use.
 *
 * <p>Local layout under {@code localDir}: {@code node-id} (this node's identity, made once),
 * {@code volumes/NAME/lock} (held while a process has NAME open for writing) and
 * {@code volumes/NAME/journal/} (its journal segments). See docs/engine.md.
 */
public final class StrataEngine implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(StrataEngine.class.getName());

    private final ObjectStore store;
    private final Path localDir;
    private final String nodeId;
    /** The node's read cache, opened by the first volume that wants one; guarded by {@code this}. */
    private ReadCache readCache;
    private boolean readCacheTried;
    /** Volumes this engine has open for writing: a snapshot of one goes through its writer (it owns the journal). */
    private final java.util.concurrent.ConcurrentHashMap<String, LogStructuredVolume> writers =
            new java.util.concurrent.ConcurrentHashMap<>();

    public StrataEngine(ObjectStore store, Path localDir) throws IOException {
        this(store, localDir, null);
    }

    /** @param nodeId this node's identity, or null to use (and create) the one stored in {@code localDir} */
    public StrataEngine(ObjectStore store, Path localDir, String nodeId) throws IOException {
        this.store = store;
        this.localDir = localDir;
        Files.createDirectories(localDir);
        this.nodeId = nodeId != null ? nodeId : loadNodeId(localDir);
    }

    private static String loadNodeId(Path dir) throws IOException {
        Path f = dir.resolve("node-id");
        if (Files.exists(f)) {
            String id = Files.readString(f, StandardCharsets.UTF_8).trim();
            if (!id.isEmpty()) {
                return id;
            }
        }
        String id = UUID.randomUUID().toString();
        Path tmp = dir.resolve("node-id.tmp");
        Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return id;
    }

    public String nodeId() {
        return nodeId;
    }

    public ObjectStore store() {
        return store;
    }

    /** Creates a volume (its superblock, conditionally): fails if the name is taken. */
    public Superblock createVolume(String name, long sizeBytes) throws IOException {
        VolumeKeys keys = new VolumeKeys(name);
        if (sizeBytes <= 0 || sizeBytes % 4096 != 0) {
            throw new VolumeException("volume " + name + ": size " + sizeBytes + " must be a positive multiple of 4096 bytes");
        }
        requireNoRemainder(keys);
        Superblock sb = new Superblock(name, UUID.randomUUID().toString(), sizeBytes, Volume.SECTOR_SIZE, 4096, Instant.now());
        if (!store.putIfAbsent(keys.superblock(), ByteBuffer.wrap(sb.encode()))) {
            throw new VolumeExistsException("volume " + name + " already exists in " + store.describe());
        }
        return sb;
    }

    /**
     * A new volume's name must be clean: keys left by an unfinished delete (epochs, objects) would
     * otherwise be read as the new volume's.
     */
    private void requireNoRemainder(VolumeKeys keys) throws IOException {
        // One LIST: a new name's prefix is empty, so this costs one cheap request.
        List<ObjectInfo> present = store.list(keys.prefix());
        if (present.isEmpty()) {
            return;
        }
        if (present.stream().anyMatch(o -> o.key().equals(keys.deleting()))) {
            throw new VolumeExistsException(deletedMessage(keys, VolumeDeletion.remainsKeptFor(store, keys)));
        }
        if (present.stream().anyMatch(o -> o.key().equals(keys.superblock()))) {
            throw new VolumeExistsException("volume " + keys.volume() + " already exists in " + store.describe());
        }
        throw new VolumeExistsException("the name " + keys.volume() + " has leftover keys under " + keys.prefix()
                + " in " + store.describe() + "; delete the volume to clear them");
    }

    /**
     * Deletes a volume: from then on it is not listed, cannot be opened and its name cannot be
     * reused. Everything of it in the bucket (objects, checkpoints, epochs, snapshots) is deleted,
     * and its journal on this node — except, while clones read through some of its snapshots, those
     * snapshots and the objects their maps point into (the volume's <em>remains</em>, see
     * {@link #clonesKeepingRemains}): they go, with the name's reservation, when the last such
     * clone is deleted. Crash-safe and resumable: a second call finishes an interrupted one.
     * Refused while any writer holds the volume.
     *
     * @return the number of bucket keys deleted by this call
     */
    public int deleteVolume(String name) throws IOException {
        return deleteVolume(name, ProgressListener.NONE);
    }

    /** {@link #deleteVolume(String)}, telling {@code progress} after each key deleted (done, of how many). */
    public int deleteVolume(String name, ProgressListener progress) throws IOException {
        VolumeKeys.validateName(name);
        if (writers.containsKey(name)) {
            throw new VolumeLockedException("volume " + name + " is open for writing in this process", "this process");
        }
        int n = VolumeDeletion.delete(store, name, describeHolder(), progress);
        Path volDir = localDir.resolve("volumes").resolve(name);
        if (Files.isDirectory(volDir)) {
            try (var files = Files.walk(volDir)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        return n;
    }

    /**
     * For a deleted volume whose remains are kept: the clones that keep them, as
     * {@code CLONE (via VOLUME@SNAPSHOT)}. Empty if the volume is not deleted or nothing is kept.
     */
    public List<String> clonesKeepingRemains(String name) throws IOException {
        return VolumeDeletion.remainsKeptFor(store, new VolumeKeys(name));
    }

    private String deletedMessage(VolumeKeys keys, List<String> keptFor) {
        if (keptFor.isEmpty()) {
            return "volume " + keys.volume() + " is being deleted (" + keys.deleting() + " exists in " + store.describe()
                    + "); run the delete again to finish it";
        }
        return "volume " + keys.volume() + " was deleted; its remains stay in " + store.describe() + " (and the name stays"
                + " reserved) while clone(s) " + keptFor + " read through them; they go when those clones are deleted";
    }

    /** The volume's superblock. @throws VolumeNotFoundException if there is no such volume */
    public Superblock superblock(String name) throws IOException {
        VolumeKeys keys = new VolumeKeys(name);
        if (VolumeDeletion.isBeingDeleted(store, keys)) {
            throw new VolumeNotFoundException(deletedMessage(keys, VolumeDeletion.remainsKeptFor(store, keys)));
        }
        try {
            return Superblock.decode(store.get(keys.superblock()), keys.superblock());
        } catch (NoSuchObjectException e) {
            throw new VolumeNotFoundException("no volume " + name + " in " + store.describe());
        }
    }

    public boolean exists(String name) throws IOException {
        try {
            superblock(name);
            return true;
        } catch (VolumeNotFoundException e) {
            return false;
        }
    }

    /** Names of every volume in the bucket, without deleted ones (whose remains clones may keep). */
    public List<String> listVolumes() throws IOException {
        List<String> names = new ArrayList<>();
        java.util.Set<String> deleted = new java.util.HashSet<>();
        for (ObjectInfo info : store.list(VolumeKeys.volumesRoot())) {
            String rest = info.key().substring(VolumeKeys.volumesRoot().length());
            int slash = rest.indexOf('/');
            if (slash > 0 && rest.indexOf('/', slash + 1) < 0) {
                String tail = rest.substring(slash + 1);
                if (tail.equals("superblock")) {
                    names.add(rest.substring(0, slash));
                } else if (tail.equals("deleting")) {
                    deleted.add(rest.substring(0, slash)); // deleted, or remains kept for clones: not listed
                }
            }
        }
        names.removeAll(deleted);
        return names;
    }

    /** Opens a volume read-only: the state the bucket has now; always allowed, takes no epoch. */
    public LogStructuredVolume openReadOnly(String name, VolumeOptions options) throws IOException {
        Superblock sb = superblock(name);
        VolumeKeys keys = new VolumeKeys(name);
        EpochHistory history = EpochHistory.load(store, keys);
        BucketState state = BucketState.load(store, keys, history, sb.parent() != null);
        LogStructuredVolume v = new LogStructuredVolume(sb, store, options, state, history.latestEpoch(), true, () -> {},
                Snapshots.parentOf(store, sb));
        attachReadCache(v, options);
        v.start(null);
        return v;
    }

    /**
     * Opens a volume for writing: takes a new epoch (fencing every older one), replays this
     * node's journal if this node held the volume last, and re-uploads what had not reached the
     * bucket.
     *
     * @param takeOver open even though another node's epoch is still held (that node is gone);
     *                 its un-uploaded writes are lost, its later uploads are ignored
     * @throws VolumeLockedException naming the holder if another writer holds it and
     *                               {@code takeOver} is false
     */
    public LogStructuredVolume openForWrite(String name, VolumeOptions options, boolean takeOver) throws IOException {
        Superblock sb = superblock(name);
        VolumeKeys keys = new VolumeKeys(name);
        Path volDir = localDir.resolve("volumes").resolve(name);
        Files.createDirectories(volDir);
        VolumeDirLock lock = VolumeDirLock.acquire(volDir, name);
        boolean ok = false;
        try {
            long loadStart = System.nanoTime();
            EpochHistory history = EpochHistory.load(store, keys);
            EpochRecord latest = history.latest();
            boolean ours = latest != null && latest.holderNode().equals(nodeId);
            if (latest != null && !history.isReleased(latest.epoch()) && !ours && !takeOver) {
                throw new VolumeLockedException("volume " + name + " is held by " + latest.holderDescription() + " (epoch "
                        + latest.epoch() + ", since " + latest.opened() + "); open with take-over if that node is gone",
                        latest.holderDescription());
            }
            BucketState state = BucketState.load(store, keys, history, sb.parent() != null);
            SnapshotView parent = Snapshots.parentOf(store, sb);
            long newEpoch = history.latestEpoch() + 1;
            checkLoadWithinGrace(name, options, loadStart);
            EpochRecord rec = new EpochRecord(newEpoch, nodeId, describeHolder(), state.lastObjectSeq, Instant.now());
            if (!store.putIfAbsent(keys.epoch(newEpoch), ByteBuffer.wrap(rec.encode(name)))) {
                throw new VolumeLockedException("volume " + name + ": another writer took epoch " + newEpoch
                        + " at the same time", "a concurrent opener");
            }
            Path journalDir = volDir.resolve("journal");
            if (!ours && Files.isDirectory(journalDir) && hasFiles(journalDir)) {
                Path aside = volDir.resolve("journal.stale-" + System.currentTimeMillis());
                Files.move(journalDir, aside);
                LOG.log(System.Logger.Level.WARNING, "volume " + name + ": the local journal belongs to an older holder ("
                        + (latest == null ? "none" : latest.holderDescription()) + "); moved aside to " + aside
                        + " without replaying it");
            }
            Files.createDirectories(journalDir);
            lock.watchJournal(journalDir);
            LogStructuredVolume v = new LogStructuredVolume(sb, store, options, state, newEpoch, false, () -> {
                writers.remove(name);
                lock.release();
            }, parent);
            v.watchLocalDirectory(lock::lostReason);
            attachReadCache(v, options);
            ReplayResult replay = JournalReplayer.replay(journalDir, sb.volumeId(), state.lastJournalSeq,
                    (seq, recEpoch, lba, sectors, kind, data) -> {
                        try {
                            v.applyReplayed(seq, recEpoch, lba, sectors, kind, data);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
            if (replay.missingBefore(state.lastJournalSeq)) {
                // The journal starts after the bucket ends: records in between are lost (this cannot happen
                // unless the bucket lost objects or the journal lost segments). Say so; the bucket's state stands.
                LOG.log(System.Logger.Level.ERROR, "volume " + name + ": the local journal starts at record " + replay.firstSeq()
                        + " but the bucket ends at record " + state.lastJournalSeq + "; records in between are lost."
                        + " Continuing from the bucket's state; the journal is discarded");
            }
            if (replay.chainLastSeq() <= state.lastJournalSeq || replay.missingBefore(state.lastJournalSeq)) {
                // Nothing in the journal is newer than the bucket: start a fresh one.
                Journal.deleteSegments(journalDir, sb.volumeId());
            }
            long next = v.lastJournalSeq() + 1;
            long lost = v.lostBypassRecords();
            LOG.log(System.Logger.Level.INFO, "volume " + name + " opened for write, epoch " + newEpoch + ": "
                    + state.objectsReplayed + " objects after checkpoint " + state.checkpointSeq + "; journal: " + replay.describe()
                    + (lost > 0 ? "; " + lost + " bypassed large writes were never flushed and"
                            + " their objects never uploaded: those ranges keep their older contents" : ""));
            v.start(Journal.open(journalDir, options.journal(), sb.volumeId(), next));
            v.startEpochPruning(history, rec);
            writers.put(name, v);
            ok = true;
            return v;
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } finally {
            if (!ok) {
                lock.release();
            }
        }
    }

    /**
     * The state this open loaded is only safe to fence the previous writer with if the load took
     * less than half of GC's delete grace: that writer's garbage collector deletes an object only
     * after the checkpoints that no longer need it are older than the grace, and a fence check
     * found no newer epoch — so a loader that started before those checkpoints must have written
     * its epoch record by then (docs/gc.md, "Deleting"). A slower load is refused: retry it.
     */
    private static void checkLoadWithinGrace(String name, VolumeOptions options, long loadStart) throws VolumeException {
        long grace = options.gc().deleteGrace().toNanos();
        long took = System.nanoTime() - loadStart;
        if (grace > 0 && took > grace / 2) {
            throw new VolumeException("volume " + name + ": loading its state took " + took / 1_000_000 + " ms, more than half of"
                    + " the GC delete grace (" + options.gc().deleteGrace() + "); the previous writer may have deleted objects"
                    + " meanwhile. Retry the open (or raise the grace on every node)");
        }
    }

    // ---------------------------------------------------------------- snapshots and clones (docs/snapshots-and-clones.md)

    /**
     * Takes snapshot {@code snapshot} of {@code volume}: through its writer if this engine has it
     * open for writing, else by opening it for writing briefly (refused with
     * {@link VolumeLockedException} if another process or node holds it).
     */
    public SnapshotRecord createSnapshot(String volume, String snapshot) throws IOException {
        VolumeKeys.validateName(volume);
        VolumeKeys.validateSnapshotName(snapshot);
        LogStructuredVolume open = writers.get(volume);
        if (open != null) {
            return open.createSnapshot(snapshot);
        }
        try (LogStructuredVolume v = openForWrite(volume, VolumeOptions.defaults(), false)) {
            return v.createSnapshot(snapshot);
        }
    }

    /** The volume's snapshots, in name order; deleted ones that clones still keep are not listed. */
    public List<SnapshotRecord> listSnapshots(String volume) throws IOException {
        superblock(volume);
        return Snapshots.list(store, volume);
    }

    /** One snapshot's record. @throws SnapshotNotFoundException if there is none, or it was deleted */
    public SnapshotRecord snapshot(String volume, String snapshot) throws IOException {
        SnapshotRecord rec = Snapshots.record(store, volume, snapshot);
        if (Snapshots.isDeleted(store, volume, snapshot)) {
            throw new SnapshotNotFoundException("snapshot " + snapshot + " of volume " + volume + " was deleted"
                    + Snapshots.describeKeepers(store, volume, snapshot));
        }
        return rec;
    }

    /** Names of the clones that read through the snapshot (its reference records), deleted or not. */
    public List<String> clonesOf(String volume, String snapshot) throws IOException {
        return Snapshots.clones(store, volume, snapshot);
    }

    /**
     * Deletes a snapshot. If clones read through it, it disappears from the user's view (not
     * listed, cannot be opened or cloned, its name stays reserved) but its record and map stay in
     * the bucket, marked deleted, until the last of those clones is deleted; then it goes.
     * Deleting an already deleted snapshot again finishes whatever a crash left.
     *
     * @return the clones that still read through it (empty: it is gone from the bucket)
     * @throws SnapshotNotFoundException if there is no such snapshot
     * @throws VolumeNotFoundException   if the volume does not exist or was deleted
     */
    public List<String> deleteSnapshot(String volume, String snapshot) throws IOException {
        superblock(volume);
        return Snapshots.delete(store, volume, snapshot, describeHolder());
    }

    /** Opens a snapshot read-only; it reads the volume as it was when the snapshot was taken. */
    public SnapshotView openSnapshot(String volume, String snapshot) throws IOException {
        superblock(volume);
        return Snapshots.open(store, volume, snapshot);
    }

    /**
     * Creates {@code clone}, a new volume whose unwritten blocks read through to
     * {@code source@snapshot}. Constant time; no data is copied. Open it like any volume.
     */
    public Superblock cloneVolume(String source, String snapshot, String clone) throws IOException {
        requireNoRemainder(new VolumeKeys(clone));
        return Snapshots.clone(store, source, snapshot, clone);
    }

    private static boolean hasFiles(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.findAny().isPresent();
        }
    }

    private String describeHolder() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown-host";
        }
        return "node " + nodeId + " (host " + host + ", pid " + ProcessHandle.current().pid() + ", "
                + ManagementFactory.getRuntimeMXBean().getName() + ")";
    }

    // ---------------------------------------------------------------- read cache (docs/read-cache.md)

    private void attachReadCache(LogStructuredVolume v, VolumeOptions options) {
        ReadCache c = readCache(options);
        if (c != null) {
            v.useReadCache(c);
        }
    }

    /**
     * The node's read cache in {@code LOCALDIR/cache}, opened on first use with these options'
     * settings; null if they disable it or it cannot be opened (the engine then reads from the
     * bucket: a cache is never needed for correctness).
     */
    public synchronized ReadCache readCache(VolumeOptions options) {
        if (readCache == null && !readCacheTried && options.readCache().enabled()) {
            readCacheTried = true;
            try {
                readCache = ReadCache.open(options.readCache().toConfig(localDir.resolve("cache")));
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "running without a read cache: " + e.getMessage());
            }
        }
        return options.readCache().enabled() ? readCache : null;
    }

    @Override
    public void close() throws IOException {
        try {
            synchronized (this) {
                if (readCache != null) {
                    try {
                        readCache.close();
                    } catch (IOException e) {
                        // Only the cache's state is lost (a restart finds it as of its last index), never
                        // data: the engine's own close does not fail for it, as its open does not.
                        LOG.log(System.Logger.Level.WARNING, "read cache " + localDir.resolve("cache") + ": " + e.getMessage());
                    }
                }
            }
        } finally {
            store.close();
        }
    }
}
