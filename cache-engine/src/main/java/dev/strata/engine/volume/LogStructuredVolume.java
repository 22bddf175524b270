package dev.strata.engine.volume;

import dev.strata.engine.coalescer.SequentialCoalescer;
import dev.strata.engine.extentmap.ExtentMap;
import dev.strata.engine.extentmap.Locations;
import dev.strata.engine.gc.GcReport;
import dev.strata.engine.gc.RetiredObjects;
import dev.strata.engine.gc.VictimSelector;
import dev.strata.engine.journal.Journal;
import dev.strata.engine.journal.RecordKind;
import dev.strata.engine.objectlog.Batch;
import dev.strata.engine.objectlog.BufferPool;
import dev.strata.engine.objectlog.ExtentKind;
import dev.strata.engine.objectlog.MapCheckpoint;
import dev.strata.engine.objectlog.ObjectHeader;
import dev.strata.engine.objectlog.ObjectReader;
import dev.strata.engine.objectlog.ObjectTable;
import dev.strata.engine.objectlog.ObjectUploader;
import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine's volume: writes go to the local journal and into the open batch, the extent map
 * points at (object, offset) at once, sealed batches are uploaded as objects, and reads come
 * from the batches still in memory or from the bucket. See docs/engine.md.
 *
 * <p>Concurrency:
 * <ul>
 *   <li>{@link #writeOrder} serializes writers (journal append, then batch add and map update),
 *       so the map, the journal and the objects agree on one order of writes; a snapshot takes
 *       it to capture the map between two writes. A writer blocked on journal space holds it;
 *       nothing that frees journal space needs it.</li>
 *   <li>{@link #batchLock} guards the open batch, the next object number and the last journal
 *       sequence number applied. Never held while waiting for the journal, so the sealer can
 *       seal and upload the open batch while a writer waits for journal space (the uploads
 *       are what free it).</li>
 *   <li>{@link #mapLock} guards {@link #map} and object live counts; held briefly by readers
 *       (lookup) and writers (update).</li>
 *   <li>{@link #pending} (batches not yet uploaded, by object sequence) is a concurrent map:
 *       readers pin a batch before copying out of it.</li>
 *   <li>Upload completions arrive on uploader threads in object order ({@link #uploaded}).</li>
 *   <li>One virtual thread ("sealer") seals batches older than {@code sealAfter}, checks for
 *       fencing and writes checkpoints.</li>
 *   <li>The sequential coalescer (optional) is driven under {@link #writeOrder}; readers overlay
 *       its clusters under its own short lock (docs/coalescer.md).</li>
 * </ul>
 */
public final class LogStructuredVolume implements Volume {
    private static final System.Logger LOG = System.getLogger(LogStructuredVolume.class.getName());
    /** Largest single journal record: keeps every record inside one batch and one journal entry. */
    private static final int MAX_RECORD_BYTES = 4 * 1024 * 1024;
    /** Trims and zeroes are split so the sector count fits an int. */
    private static final long MAX_NO_DATA_SECTORS = 1L << 30;

    private final Superblock superblock;
    private final VolumeKeys keys;
    private final ObjectStore store;
    private final VolumeOptions options;
    private final long epoch;
    private final boolean readOnly;
    private final Runnable onClose;
    private final long sizeSectors;
    /** Each write record fits one journal entry, so the journal never splits it and one record is one extent. */
    private final int maxRecordBytes;

    private final ReentrantLock writeOrder = new ReentrantLock();
    private final ReentrantLock batchLock = new ReentrantLock();
    private final ReentrantLock mapLock = new ReentrantLock();
    private final ExtentMap map;
    private final ObjectTable objects;
    private final ConcurrentHashMap<Long, Batch> pending = new ConcurrentHashMap<>();
    private final Semaphore pendingPermits;
    private final BufferPool buffers;
    private final ObjectReader reader;
    /** Set once by {@link #useReadCache} before reads start; null without a read cache. */
    private volatile SequentialReadahead readahead;
    private final ObjectUploader uploader;
    private final VolumeStats stats = new VolumeStats();
    /** A clone's parent snapshot: unmapped LBAs read from it. Null for a plain volume. */
    private final SnapshotView parent;
    /** Small sequential writes gather here before the journal (docs/coalescer.md); null when off. Guarded by writeOrder. */
    private final SequentialCoalescer coalescer;

    private Journal journal;
    /** Guarded by batchLock. */
    private Batch open;
    /** Guarded by batchLock: the next object sequence number. */
    private long nextObjectSeq;
    /** Guarded by batchLock: the last journal sequence number applied. */
    private long lastJournalSeq;
    /**
     * Guarded by batchLock: the highest object number holding bypassed data (0: none). FLUSH and
     * FUA wait until it is uploaded (docs/write-paths.md, "Large-write bypass").
     */
    private long lastBypassObjectSeq;
    /**
     * Guarded by batchLock: journal sequence numbers of the BYPASS records the replay of this open
     * found without their object (writes lost, never flushed). A record lost this way is found
     * again by the next replay if a crash comes before its new batch is uploaded.
     */
    private final List<LostBypass> lostBypassRecords = new ArrayList<>();

    /** A BYPASS record the replay found without its object: its journal sequence number and the range it would have written. */
    record LostBypass(long journalSeq, long lba, int sectors) {}
    /** Largest bypass record: whole in one batch, and one journal record's sector count. */
    private final int maxBypassRecordBytes;

    private volatile boolean closed;
    private volatile String fencedBy;
    /**
     * Why this writer's local directory no longer holds its journal, or null (docs/engine.md, "The
     * local directory vanishes"): set once by the sealer thread; from then on writes are refused.
     */
    private volatile String localStateLost;
    /** What the sealer asks once a second for that reason (null: not watched, a reader). */
    private volatile java.util.function.Supplier<String> localDirectoryCheck;
    private final AtomicBoolean checkpointRunning = new AtomicBoolean();
    private final AtomicBoolean coalescerWriteOutRunning = new AtomicBoolean();
    /** The last object of the volume when this writer opened it: the fence its epoch record sets for earlier epochs. */
    private final long openedAfterSeq;
    private volatile long lastCheckpointSeq;
    private volatile long lastCheckpointNanos = System.nanoTime();
    /** Journal sequence number held by the last object of the uploaded prefix; written under the uploader's lock. */
    private volatile long uploadedJournalSeq;
    private Thread sealer;

    // Garbage collection (docs/gc.md): null when read-only.
    private final RetiredObjects retired = new RetiredObjects();
    private final SnapshotPins pins;
    private final GarbageCollector gc;
    private Thread gcThread;
    /** The pruning of old epoch records this writer's open started (docs/format.md, "Pruning epoch records"). */
    private volatile Thread epochPruning;
    /** What that pruning deleted; null while it runs, if it failed, or if none ran. */
    private volatile EpochPruner.Pruned epochsPruned;
    /** The last background checkpoint's thread (tests wait for it when they simulate a crash). */
    private volatile Thread checkpointThread;
    /** Guarded by batchLock: numbers map captures in order (checkpoints and snapshots); GC's deletion rule counts them. */
    private long captureCount;
    /** Serializes checkpoints, so their capture numbers reach {@link #retired} in order. */
    private final Object checkpointLock = new Object();

    LogStructuredVolume(Superblock superblock, ObjectStore store, VolumeOptions options, BucketState state, long epoch,
            boolean readOnly, Runnable onClose) {
        this(superblock, store, options, state, epoch, readOnly, onClose, null);
    }

    LogStructuredVolume(Superblock superblock, ObjectStore store, VolumeOptions options, BucketState state, long epoch,
            boolean readOnly, Runnable onClose, SnapshotView parent) {
        this.parent = parent;
        this.superblock = superblock;
        this.keys = new VolumeKeys(superblock.volume());
        this.store = store;
        this.options = options;
        this.epoch = epoch;
        this.readOnly = readOnly;
        this.onClose = onClose;
        this.sizeSectors = superblock.sizeBytes() / SECTOR_SIZE;
        this.maxRecordBytes = Math.min(MAX_RECORD_BYTES, options.journal().maxEntryDataBytes());
        this.maxBypassRecordBytes = Math.min(MAX_RECORD_BYTES, options.objectBytes());
        this.map = state.map;
        this.objects = state.objects;
        this.nextObjectSeq = state.lastObjectSeq + 1;
        this.openedAfterSeq = state.lastObjectSeq;
        this.lastJournalSeq = state.lastJournalSeq;
        this.lastCheckpointSeq = state.checkpointSeq;
        this.uploadedJournalSeq = state.lastJournalSeq;
        this.pendingPermits = new Semaphore(options.maxPendingBatches());
        this.buffers = new BufferPool(options.objectBytes(), Math.min(options.maxPendingBatches(), 8));
        this.reader = new ObjectReader(store, keys, 4096);
        this.uploader = readOnly ? null
                : new ObjectUploader(store, keys, options.maxUploadsInFlight(), nextObjectSeq, this::uploaded);
        this.pins = new SnapshotPins(store, keys);
        this.gc = readOnly ? null
                : new GarbageCollector(this, store, keys, options.gc(), retired, pins, buffers, options.maxExtentsPerObject());
        this.coalescer = readOnly || options.coalescerClusterBytes() == 0 ? null
                : new SequentialCoalescer(options.coalescerClusterBytes(), options.coalescerStreams(), this::writeRecords);
    }

    /** Reads of uploaded objects go through the node's read cache (called once, before {@link #start}). */
    void useReadCache(dev.strata.engine.readcache.ReadCache cache) {
        reader.useCache(cache, superblock.volumeId());
        var c = cache.config();
        if (c.readaheadGets() > 0) {
            long get = (long) c.readaheadGetBlocks() * c.blockSize();
            readahead = new SequentialReadahead(c.readaheadGets() * get, get, this::prefetch);
        }
    }

    /** Readahead of the stored data of {@code [offset, offset + length)} (batches still in memory excepted). */
    private void prefetch(long offset, long length) {
        long end = Math.min(superblock.sizeBytes(), offset + length);
        if (offset >= end) {
            return;
        }
        List<long[]> runs = lookupRuns(offset / SECTOR_SIZE, (end - offset) / SECTOR_SIZE);
        SequentialReadahead.prefetchRuns(runs, seq -> {
            if (pending.containsKey(seq)) {
                return -1;
            }
            ObjectTable.Entry e = objects.get(seq);
            return e == null ? -1 : e.epoch;
        }, reader, SECTOR_SIZE);
    }

    // ---------------------------------------------------------------- recovery and start

    /** Re-applies a journal record found by replay (it is already durable in the journal). */
    void applyReplayed(long journalSeq, long recordEpoch, long lba, int sectors, RecordKind kind, ByteBuffer data)
            throws IOException {
        writeOrder.lock();
        batchLock.lock();
        try {
            if (journalSeq != lastJournalSeq + 1) {
                throw new CorruptDataException(keys.volume() + ": journal replay found record " + journalSeq
                        + " but the volume continues after " + lastJournalSeq);
            }
            if (kind == RecordKind.WRITE) {
                ByteBuffer rest = data.duplicate();
                if (rest.remaining() > options.objectBytes()) {
                    throw new VolumeException(keys.volume() + ": journal record " + journalSeq + " holds " + rest.remaining()
                            + " bytes, more than an object of " + options.objectBytes()
                            + " bytes; reopen with objectBytes at least that large");
                }
                addWrite(batchFor(rest.remaining()), journalSeq, lba, rest);
            } else if (kind == RecordKind.BYPASS) {
                // Its data was only in an object that is not in the bucket's chain (else replay would not
                // start before it): the write was never flushed, and the range keeps what it held before.
                // The record still takes its place in a batch, so objects keep gap-free runs of records.
                batchFor(0).addLostRecord(journalSeq);
                lostBypassRecords.add(new LostBypass(journalSeq, lba, sectors));
            } else {
                addNoData(batchFor(0), journalSeq, lba, sectors, kind == RecordKind.TRIM ? ExtentKind.TRIM : ExtentKind.ZERO);
            }
            lastJournalSeq = journalSeq;
        } finally {
            batchLock.unlock();
            writeOrder.unlock();
        }
    }

    /** BYPASS records the journal replay found without their data (lost unflushed large writes). */
    long lostBypassRecords() {
        return lostBypasses().size();
    }

    /** Those records, in journal order. */
    List<LostBypass> lostBypasses() {
        batchLock.lock();
        try {
            return List.copyOf(lostBypassRecords);
        } finally {
            batchLock.unlock();
        }
    }

    long lastJournalSeq() {
        batchLock.lock();
        try {
            return lastJournalSeq;
        } finally {
            batchLock.unlock();
        }
    }

    /** Starts serving writes with the given journal (opened after replay). */
    void start(Journal journal) {
        this.journal = journal;
        if (!readOnly) {
            sealer = Thread.ofVirtual().name("sealer-" + keys.volume()).start(this::sealerLoop);
            if (options.gc().enabled()) {
                gcThread = Thread.ofVirtual().name("gc-" + keys.volume()).start(gc::loop);
            }
        }
    }

    /** Deletes, in the background, the epoch records and markers no open needs any more (best effort). */
    void startEpochPruning(EpochHistory history, EpochRecord own) {
        epochPruning = Thread.ofVirtual().name("epoch-pruning-" + keys.volume()).start(() -> {
            try {
                epochsPruned = EpochPruner.prune(store, keys, history, own, options.gc().deleteGrace());
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, keys.volume() + ": pruning old epoch records failed; they stay, and the"
                        + " next open tries again: " + e);
            }
        });
    }

    /** Waits for the pruning this writer's open started: what it deleted, or null if it failed or none ran. */
    EpochPruner.Pruned awaitEpochPruning() throws InterruptedException {
        Thread t = epochPruning;
        if (t != null) {
            t.join();
        }
        return epochsPruned;
    }

    // ---------------------------------------------------------------- Volume

    @Override
    public String name() {
        return superblock.volume();
    }

    @Override
    public long size() {
        return superblock.sizeBytes();
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    public long epoch() {
        return epoch;
    }

    public Superblock superblock() {
        return superblock;
    }

    public VolumeStats stats() {
        return stats;
    }

    public VolumeOptions options() {
        return options;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        checkOpen();
        checkRange("read", offset, length);
        SequentialReadahead ra = readahead;
        if (ra != null) {
            ra.onRead(offset, length); // first: its GETs overlap with the read's own
        }
        if (coalescer != null) {
            readCoalesced(offset, dst, length);
        } else {
            readStored(offset, dst, length);
        }
        stats.reads.increment();
        stats.bytesRead.add(length);
    }

    /** Reads what the map says, then what unfinished clusters hold on top (read-your-writes). */
    private void readCoalesced(long offset, ByteBuffer dst, int length) throws IOException {
        int at = dst.position();
        long generation = coalescer.generation();
        readStored(offset, dst, length);
        if (!coalescer.overlay(offset, dst, at, length, generation)) {
            // A cluster was written out and dropped meanwhile: again, with clusters held still.
            coalescer.lock().lock();
            try {
                dst.position(at);
                readStored(offset, dst, length);
                coalescer.overlay(offset, dst, at, length, generation);
            } finally {
                coalescer.lock().unlock();
            }
        }
    }

    /**
     * Reads what the map says. A read that looked up the map just before garbage collection
     * moved its blocks may find the old object gone (deleted, or forgotten by the table): the
     * map no longer points there, so the read starts over from a fresh lookup.
     */
    private void readStored(long offset, ByteBuffer dst, int length) throws IOException {
        int at = dst.position();
        for (int attempt = 1; ; attempt++) {
            try {
                readStoredOnce(offset, dst, length);
                return;
            } catch (ObjectVanishedException e) {
                stats.readsRetriedAfterGc.increment();
                if (attempt == 5) {
                    throw new CorruptDataException(e.getMessage() + " (still after " + attempt + " fresh lookups)");
                }
                dst.position(at);
            }
        }
    }

    /** An object a read was sent to is no longer part of the volume (GC deleted it after the lookup). */
    private static final class ObjectVanishedException extends IOException {
        ObjectVanishedException(String message) {
            super(message);
        }
    }

    private void readStoredOnce(long offset, ByteBuffer dst, int length) throws IOException {
        for (long[] run : lookupRuns(offset / SECTOR_SIZE, length / SECTOR_SIZE)) {
            int bytes = (int) (run[1] * SECTOR_SIZE);
            if (run[2] == ExtentMap.UNMAPPED) {
                ZeroExtents.readUnmapped(parent, run[0], bytes, dst);
            } else if (ZeroExtents.isZero(run[2])) {
                ZeroExtents.fill(dst, bytes);
            } else {
                readMapped(run[0], run[2], dst, bytes);
            }
        }
    }

    /** The map's runs {@code {lba, sectors, location}} over the range, looked up under {@link #mapLock}. */
    private List<long[]> lookupRuns(long lba, long sectors) {
        List<long[]> runs = new ArrayList<>(4);
        mapLock.lock();
        try {
            map.lookup(lba, sectors, (l, n, loc) -> runs.add(new long[] {l, n, loc}));
        } finally {
            mapLock.unlock();
        }
        return runs;
    }

    private void readMapped(long lba, long location, ByteBuffer dst, int bytes) throws IOException {
        long seq = Locations.objectSeq(location);
        long offsetBytes = Locations.offsetSectors(location) * (long) SECTOR_SIZE;
        Batch b = pending.get(seq);
        if (b != null && b.pin()) {
            try {
                b.read(offsetBytes, dst, bytes);
                stats.readsFromMemory.increment();
                return;
            } finally {
                b.unpin();
            }
        }
        ObjectTable.Entry e = objects.get(seq);
        if (e == null) {
            throw new ObjectVanishedException(keys.volume() + ": LBA " + lba + " maps to object " + seq + ", which the volume does not know");
        }
        try {
            reader.read(seq, e.epoch, offsetBytes, dst, bytes);
            stats.readsFromBucket.increment();
        } catch (CorruptDataException c) {
            throw new CorruptDataException(keys.volume() + " LBA " + lba + ": " + c.getMessage());
        } catch (IOException io) {
            boolean gone = io instanceof dev.strata.engine.store.NoSuchObjectException
                    || io.getCause() instanceof dev.strata.engine.store.NoSuchObjectException;
            if (gone && (retired.isRetired(seq) || objects.get(seq) != e)) {
                throw new ObjectVanishedException(keys.volume() + ": LBA " + lba + " was in object " + seq + ", deleted by GC meanwhile");
            }
            throw io;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        int length = src.remaining();
        checkWritable();
        checkRange("write", offset, length);
        long last;
        boolean bypass = bypasses(offset, length);
        writeOrder.lock();
        try {
            checkWritable();
            if (bypass) {
                if (coalescer != null) {
                    coalescer.beforeOtherWrite(offset, length); // journal order: pending clusters go first
                }
                last = writeBypassed(offset, src.duplicate());
            } else {
                last = coalescer != null ? coalescer.write(offset, src.duplicate(), fua) : writeRecords(offset, src.duplicate());
            }
        } finally {
            writeOrder.unlock();
        }
        src.position(src.position() + length);
        stats.writes.increment();
        stats.bytesWritten.add(length);
        if (fua) {
            awaitDurable(last);
            awaitBypassedUploaded();
        }
    }

    /** Whether a write takes the large-write bypass: on, long enough, 4096-aligned in offset and length. */
    private boolean bypasses(long offset, int length) {
        int threshold = options.largeWriteBypassBytes();
        return threshold > 0 && length >= threshold && offset % 4096 == 0 && length % 4096 == 0;
    }

    /**
     * writeOrder held. The large-write bypass: per piece (at most an object, at most 4 MiB, each
     * whole in one batch) a BYPASS journal record without data keeps the record order, and the
     * data goes only into the open batch; the map points there at once. Returns the last
     * record's journal sequence number.
     */
    private long writeBypassed(long offset, ByteBuffer rest) throws IOException {
        long lba = offset / SECTOR_SIZE;
        long last = 0;
        do {
            int n = Math.min(rest.remaining(), maxBypassRecordBytes);
            ByteBuffer chunk = rest.slice(rest.position(), n);
            long seq = appendToJournal(lba, n / SECTOR_SIZE, RecordKind.BYPASS, null);
            batchLock.lock();
            try {
                Batch b = batchFor(n); // the whole piece in one batch: it is uploaded, or lost, as one
                addWrite(b, seq, lba, chunk);
                lastJournalSeq = seq;
                lastBypassObjectSeq = b.objectSeq();
            } finally {
                batchLock.unlock();
            }
            stats.bypassedWrites.increment();
            stats.bypassedBytes.add(n);
            last = seq;
            rest.position(rest.position() + n);
            lba += n / SECTOR_SIZE;
        } while (rest.hasRemaining());
        return last;
    }

    /**
     * FLUSH and FUA: every batch holding bypassed data of a write completed before the call is
     * uploaded (the open one is sealed if it is one of them); those writes have no other durable copy.
     */
    private void awaitBypassedUploaded() throws IOException {
        long through;
        batchLock.lock();
        try {
            through = lastBypassObjectSeq;
            if (through == 0 || through <= uploader.uploadedThrough()) {
                return;
            }
            if (open != null && open.objectSeq() <= through) {
                sealOpen();
            }
        } finally {
            batchLock.unlock();
        }
        stats.flushesUploadingBypassed.increment();
        uploader.awaitUploaded(through);
    }

    /** writeOrder held. Journal records, batch and map for {@code rest}; the last record's journal sequence number. */
    private long writeRecords(long offset, ByteBuffer rest) throws IOException {
        long lba = offset / SECTOR_SIZE;
        long last = 0;
        do {
            // Cut the record to what the open batch can still take, so objects fill up.
            int n = Math.min(Math.min(rest.remaining(), roomInOpenBatch()), maxRecordBytes) / SECTOR_SIZE * SECTOR_SIZE;
            ByteBuffer chunk = rest.slice(rest.position(), n);
            long seq = appendToJournal(lba, n / SECTOR_SIZE, RecordKind.WRITE, chunk.duplicate());
            batchLock.lock();
            try {
                addWrite(batchFor(n), seq, lba, chunk);
                lastJournalSeq = seq;
            } finally {
                batchLock.unlock();
            }
            last = seq;
            rest.position(rest.position() + n);
            lba += n / SECTOR_SIZE;
        } while (rest.hasRemaining());
        return last;
    }

    /** Writes out what the coalescer holds that is not yet in the journal (FLUSH, snapshot, flush to bucket, close). */
    private void writeOutCoalesced() throws IOException {
        if (coalescer != null) {
            writeOrder.lock();
            try {
                checkOpen();
                coalescer.writeOutPending();
            } finally {
                writeOrder.unlock();
            }
        }
    }

    /** The journal's counters (benchmarks: journal writes and fdatasyncs). */
    public dev.strata.engine.journal.JournalStats journalStats() {
        return journal.stats();
    }

    /** Coalescer counters, or null when it is off. */
    public SequentialCoalescer.Stats coalescerStats() {
        return coalescer == null ? null : coalescer.stats();
    }

    @Override
    public void trim(long offset, long length) throws IOException {
        noData("trim", offset, length, RecordKind.TRIM, ExtentKind.TRIM, false);
        stats.trims.increment();
    }

    @Override
    public void writeZeroes(long offset, long length, boolean fua) throws IOException {
        noData("write-zeroes", offset, length, RecordKind.ZERO, ExtentKind.ZERO, fua);
        stats.zeroes.increment();
    }

    private void noData(String what, long offset, long length, RecordKind rk, ExtentKind ek, boolean fua) throws IOException {
        checkWritable();
        checkRange(what, offset, length);
        long lba = offset / SECTOR_SIZE;
        long remaining = length / SECTOR_SIZE;
        long last = 0;
        writeOrder.lock();
        try {
            checkWritable();
            if (coalescer != null) {
                coalescer.beforeOtherWrite(offset, length);
            }
            while (remaining > 0) {
                int n = (int) Math.min(remaining, MAX_NO_DATA_SECTORS);
                long seq = appendToJournal(lba, n, rk, null);
                batchLock.lock();
                try {
                    addNoData(batchFor(0), seq, lba, n, ek);
                    lastJournalSeq = seq;
                } finally {
                    batchLock.unlock();
                }
                last = seq;
                lba += n;
                remaining -= n;
            }
        } finally {
            writeOrder.unlock();
        }
        if (fua) {
            awaitDurable(last);
            awaitBypassedUploaded();
        }
    }

    @Override
    public void flush() throws IOException {
        checkOpen();
        if (readOnly) {
            return;
        }
        if (localStateLost != null) {
            // The journal has no name any more: what was acknowledged is durable once it is in the bucket.
            stats.flushes.increment();
            flushToBucket();
            return;
        }
        writeOutCoalesced();
        awaitDurable(journal.lastAppendedSeq());
        stats.flushes.increment();
        if (options.flushMode() == VolumeOptions.FlushMode.BUCKET) {
            flushToBucket();
        } else {
            awaitBypassedUploaded();
        }
    }

    /** Returns when every write completed before the call is in the bucket (seals the open batch). */
    public void flushToBucket() throws IOException {
        checkOpen();
        if (readOnly) {
            return;
        }
        writeOutCoalesced();
        long through;
        batchLock.lock();
        try {
            sealOpen();
            through = nextObjectSeq - 1;
        } finally {
            batchLock.unlock();
        }
        uploader.awaitUploaded(through);
    }

    @Override
    public List<AllocationRun> allocation(long offset, long length, int maxRuns) throws IOException {
        checkOpen();
        checkRange("block status", offset, length);
        if (coalescer != null && !readOnly && !closed && fencedBy == null) {
            writeOutCoalesced(); // coalesced bytes are allocated too
        }
        AllocationRuns runs = new AllocationRuns(maxRuns, parent != null);
        mapLock.lock();
        try {
            map.lookup(offset / SECTOR_SIZE, length / SECTOR_SIZE, runs);
        } finally {
            mapLock.unlock();
        }
        return runs.runs();
    }

    // ---------------------------------------------------------------- write path internals

    private long appendToJournal(long lba, int sectors, RecordKind kind, ByteBuffer data) throws IOException {
        try {
            return journal.append(epoch, lba, sectors, kind, data);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VolumeException("volume " + keys.volume() + ": interrupted while waiting for journal space at LBA " + lba);
        }
    }

    private void awaitDurable(long seq) throws IOException {
        try {
            journal.awaitDurable(seq);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VolumeException("volume " + keys.volume() + ": interrupted while waiting for the journal to sync");
        }
    }

    /** Bytes the next record may have: what the open batch can still take, or a whole new batch. */
    private int roomInOpenBatch() {
        batchLock.lock();
        try {
            return open != null && open.hasExtentRoom() && open.room() >= SECTOR_SIZE ? open.room() : options.objectBytes();
        } finally {
            batchLock.unlock();
        }
    }

    /**
     * batchLock held. The open batch if it can take a record of {@code bytes} (0: an extent
     * without data), else a new one (waiting, under batchLock, for the pending-batch limit:
     * only uploads release it, and they need no lock of ours).
     */
    private Batch batchFor(int bytes) throws IOException {
        if (open != null && open.hasExtentRoom() && open.room() >= bytes) {
            return open;
        }
        sealOpen();
        try {
            pendingPermits.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(keys.volume() + ": interrupted while waiting for uploads to make room");
        }
        open = new Batch(nextObjectSeq++, epoch, buffers, options.maxExtentsPerObject());
        objects.add(open.objectSeq(), epoch, 0, 0);
        pending.put(open.objectSeq(), open);
        return open;
    }

    private void addWrite(Batch b, long seq, long lba, ByteBuffer chunk) {
        int sectors = chunk.remaining() / SECTOR_SIZE;
        int off = b.addWrite(seq, lba, chunk);
        mapLock.lock();
        try {
            map.put(lba, sectors, Locations.pack(b.objectSeq(), off), this::displaced);
            objects.get(b.objectSeq()).liveSectors += sectors;
        } finally {
            mapLock.unlock();
        }
    }

    private void addNoData(Batch b, long seq, long lba, int sectors, ExtentKind kind) {
        b.addNoData(seq, lba, sectors, kind);
        mapLock.lock();
        try {
            if (parent != null) {
                ZeroExtents.put(map, lba, sectors, this::displaced);
            } else {
                map.remove(lba, sectors, this::displaced);
            }
        } finally {
            mapLock.unlock();
        }
    }

    /** mapLock held: an older extent lost {@code sectors} sectors. */
    private void displaced(long oldLocation, long sectors) {
        ObjectTable.Entry e = objects.get(Locations.objectSeq(oldLocation));
        if (e != null) {
            e.liveSectors -= sectors;
        }
    }

    /** batchLock held. Seals the open batch (if it holds anything) and hands it to the uploader. */
    private void sealOpen() {
        if (open == null || open.isEmpty()) {
            return;
        }
        Batch b = open;
        open = null;
        b.seal();
        stats.objectsSealed.increment();
        uploader.submit(b);
    }

    /** Uploader thread, in object order: the batch and all before it are in the bucket. */
    private void uploaded(Batch b) {
        ObjectTable.Entry e = objects.get(b.objectSeq());
        if (e != null) {
            e.headerBytes = b.header().headerBytes;
            e.dataBytes = b.header().dataBytes;
        }
        reader.remember(b.header());
        reader.cacheUploaded(b); // the read cache gets the fresh object without a GET
        if (!b.isMoves()) { // a GC object holds no journal records and took no pending-batch permit
            uploadedJournalSeq = b.lastJournalSeq();
            try {
                if (journal != null) {
                    journal.releaseThrough(b.lastJournalSeq());
                }
            } catch (IOException ex) {
                LOG.log(System.Logger.Level.WARNING, keys.volume() + ": journal release failed: " + ex.getMessage());
            }
        }
        pending.remove(b.objectSeq());
        b.unpin();
        if (!b.isMoves()) {
            pendingPermits.release();
        }
        stats.objectsUploaded.increment();
    }

    // ---------------------------------------------------------------- background: sealing, fencing, checkpoints

    /**
     * Watches this writer's local directory from now on: {@code lostReason} answers null while its
     * lock file and journal are the files it opened (the engine's {@code VolumeDirLock}).
     */
    void watchLocalDirectory(java.util.function.Supplier<String> lostReason) {
        this.localDirectoryCheck = lostReason;
    }

    /** Why writes are refused now (fenced by a newer writer, local directory lost), or null. */
    public String writesRefusedBecause() {
        String lost = localStateLost;
        String fenced = fencedBy;
        return fenced != null ? "fenced by " + fenced : lost != null ? "local state lost: " + lost : null;
    }

    private void sealerLoop() {
        long lastFenceCheck = System.nanoTime();
        long lastLocalCheck = System.nanoTime();
        while (!closed) {
            try {
                Thread.sleep(Math.max(10, Math.min(200, options.sealAfter().toMillis() / 4)));
            } catch (InterruptedException e) {
                return;
            }
            try {
                if (System.nanoTime() - lastLocalCheck > 1_000_000_000L) {
                    lastLocalCheck = System.nanoTime();
                    checkLocalDirectory();
                }
                writeOutCoalescedIfOld();
                sealIfOld();
                // A LIST every 30 s: a stale writer stops taking writes within that; its uploads are fenced anyway.
                if (System.nanoTime() - lastFenceCheck > 30_000_000_000L) {
                    lastFenceCheck = System.nanoTime();
                    checkFence();
                }
                if (uploader.uploadedThrough() - lastCheckpointSeq >= options.checkpointEveryObjects()) {
                    checkpointAsync();
                }
            } catch (Exception e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.WARNING, keys.volume() + ": background task failed: " + e);
                }
            }
        }
    }

    /**
     * Coalesced bytes wait at most the journal's sync interval before they go to the journal. On
     * its own virtual thread: a write-out may wait for journal space, which only the sealer's
     * sealing and the uploads free, so the sealer itself must never wait for it.
     */
    private void writeOutCoalescedIfOld() {
        if (coalescer != null && coalescer.hasPendingOlderThan(options.journal().syncInterval().toNanos())
                && coalescerWriteOutRunning.compareAndSet(false, true)) {
            Thread.ofVirtual().name("coalescer-" + keys.volume()).start(() -> {
                try {
                    writeOrder.lock();
                    try {
                        if (!closed && fencedBy == null) {
                            coalescer.writeOutPending();
                        }
                    } finally {
                        writeOrder.unlock();
                    }
                } catch (IOException | RuntimeException e) {
                    if (!closed) {
                        LOG.log(System.Logger.Level.WARNING, keys.volume() + ": coalescer write-out failed: " + e);
                    }
                } finally {
                    coalescerWriteOutRunning.set(false);
                }
            });
        }
    }

    /**
     * Seals the open batch when it is old, or at once when the journal is running out of space
     * (the open batch's records hold journal space that only its upload can release).
     */
    private void sealIfOld() {
        boolean pressure = journal != null && journal.underSpacePressure();
        if (!batchLock.tryLock()) {
            return; // a writer is adding to it; we try again soon
        }
        try {
            if (open != null && !open.isEmpty() && (pressure || open.ageNanos() >= options.sealAfter().toNanos())) {
                sealOpen();
                if (pressure) {
                    stats.sealsForJournalSpace.increment();
                }
            }
        } finally {
            batchLock.unlock();
        }
    }

    /**
     * If the local directory was deleted or replaced: refuses writes from now on, and sends what was
     * acknowledged (the coalescer's pending bytes, the open batch) to the bucket, whose uploads
     * carry on from memory: a {@link #flushToBucket} on its own virtual thread, since its write-out
     * may wait for journal space, which only the sealer's sealing and the uploads free (as in
     * writeOutCoalescedIfOld).
     */
    private void checkLocalDirectory() {
        java.util.function.Supplier<String> check = localDirectoryCheck;
        String lost;
        if (check == null || localStateLost != null || (lost = check.get()) == null) {
            return;
        }
        localStateLost = lost;
        LOG.log(System.Logger.Level.ERROR, keys.volume() + " epoch " + epoch + ": " + lost + " while this process wrote the volume;"
                + " refusing further writes (their journal could not be found after a restart). What was acknowledged is"
                + " being uploaded; restart the volume on a directory that stays put");
        Thread.ofVirtual().name("local-state-lost-" + keys.volume()).start(() -> {
            try {
                flushToBucket();
            } catch (IOException | RuntimeException e) {
                // Closed meanwhile (a close uploads the open batch itself), fenced, or the write-out of
                // never-flushed coalesced bytes failed with the journal's files gone.
                LOG.log(System.Logger.Level.WARNING, keys.volume() + ": uploading what was acknowledged after the local"
                        + " directory vanished did not finish here: " + e);
            }
        });
    }

    /** Looks for a newer epoch: if there is one this writer is fenced and stops writing. */
    void checkFence() throws IOException {
        EpochRecord newer = EpochHistory.newerThan(store, keys, epoch);
        if (newer != null) {
            fencedBy = "epoch " + newer.epoch() + " held by " + newer.holderDescription();
            LOG.log(System.Logger.Level.ERROR, keys.volume() + ": fenced by " + fencedBy + "; refusing further writes");
            uploader.stop();
        }
    }

    private void checkpointAsync() {
        if (checkpointRunning.compareAndSet(false, true)) {
            checkpointThread = Thread.ofVirtual().name("checkpoint-" + keys.volume()).start(() -> {
                try {
                    checkpoint();
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, keys.volume() + ": checkpoint failed: " + e.getMessage());
                } finally {
                    checkpointRunning.set(false);
                }
            });
        }
    }

    /**
     * Writes a map checkpoint: the map as it is now may point into every object up to the open
     * batch R; it is stored once R is uploaded, under R's number, and says "objects up to R-1
     * fully applied" (replaying R and later again is idempotent).
     */
    void checkpoint() throws IOException {
        synchronized (checkpointLock) {
            checkpointLocked();
        }
    }

    private void checkpointLocked() throws IOException {
        MapCapture c = captureMap(false);
        long referenced = c.referenced();
        if (referenced <= lastCheckpointSeq || referenced == 0) {
            return;
        }
        awaitCaptured(referenced);
        if (closed) {
            return; // a crashed (test) or closed volume makes no more bucket changes
        }
        byte[] body = c.body();
        String key = keys.checkpoint(referenced, epoch);
        if (!store.putIfAbsent(key, ByteBuffer.wrap(body))) {
            // An earlier attempt whose response was lost, or another writer using this epoch: either way
            // this capture is not known to be the one stored, so GC must not count it.
            throw new VolumeException(keys.volume() + ": checkpoint " + key + " already exists; not counted, retried later");
        }
        retired.checkpointStored(c.capture(), System.nanoTime());
        lastCheckpointNanos = System.nanoTime();
        stats.checkpoints.increment();
        long previous = lastCheckpointSeq;
        lastCheckpointSeq = referenced;
        pruneCheckpoints();
        LOG.log(System.Logger.Level.DEBUG, keys.volume() + ": checkpoint " + key + " (previous " + previous + ")");
    }

    /**
     * Keeps the newest two checkpoints an open could load (an older one is the fallback if the
     * newest is unreadable) and deletes the rest. A checkpoint an earlier epoch wrote past the
     * fence this writer recorded is never loaded (it is fenced out): it is deleted and not
     * counted, so it never takes the fallback's place — GC's deletion rule counts on both.
     */
    void pruneCheckpoints() throws IOException {
        List<String> loadable = new ArrayList<>();
        List<String> fencedOut = new ArrayList<>();
        for (ObjectInfo info : store.list(keys.checkpointsPrefix())) {
            long[] se = VolumeKeys.parseSeqEpoch(info.key(), keys.checkpointsPrefix());
            if (se != null && se[1] > epoch) {
                checkFence(); // a newer writer's: we are fenced and must not delete what it may load
                return;
            }
            if (se != null && se[1] < epoch && se[0] > openedAfterSeq) {
                fencedOut.add(info.key());
            } else {
                loadable.add(info.key());
            }
        }
        // A writer taken over but not aware yet must not delete checkpoints the new one may load.
        checkFence();
        if (fencedBy != null || closed) {
            return;
        }
        for (String key : fencedOut) {
            store.delete(key);
        }
        for (int i = 0; i < loadable.size() - 2; i++) {
            store.delete(loadable.get(i));
        }
    }

    /**
     * The map serialized at one point of the write order, the objects it may point into, its
     * capture number and, for a snapshot, the pin that keeps GC off those objects.
     */
    private record MapCapture(long covered, long referenced, byte[] body, long capture, SnapshotPins.Capture pin) {}

    /**
     * Serializes the map as it is now: under batchLock it is the effect of a prefix of the write
     * order. It may point into every object up to the open batch ({@code referenced}); the table
     * lists the uploaded ones ({@code covered}), the later ones are this epoch's.
     */
    private MapCapture captureMap(boolean forSnapshot) {
        batchLock.lock();
        try {
            long capture = ++captureCount;
            // The open batch is excluded only while empty; GC commits never leave an empty one below them.
            long referenced = open != null && open.isEmpty() ? open.objectSeq() - 1 : nextObjectSeq - 1;
            long covered;
            long coveredJournalSeq;
            // Only uploaded objects have known sizes: the table stops there, later ones replay from their headers.
            synchronized (uploader) {
                covered = uploader.uploadedThrough();
                coveredJournalSeq = uploadedJournalSeq;
            }
            mapLock.lock();
            try {
                SnapshotPins.Capture pin = forSnapshot ? pins.capture(SnapshotPins.objectsOf(map)) : null;
                // Readers and writers wait for this encoding: it writes straight into an array of the
                // exact size (docs/engine.md, "Map checkpoints": ~10 ms for 1.9 million extents).
                return new MapCapture(covered, referenced,
                        MapCheckpoint.encode(keys.volume(), covered, referenced, epoch, coveredJournalSeq, objects, map),
                        capture, pin);
            } finally {
                mapLock.unlock();
            }
        } finally {
            batchLock.unlock();
        }
    }

    /** Waits until every object up to {@code referenced} is uploaded, sealing the open batch if it is one of them. */
    private void awaitCaptured(long referenced) throws IOException {
        batchLock.lock();
        try {
            if (open != null && open.objectSeq() <= referenced) {
                sealOpen();
            }
        } finally {
            batchLock.unlock();
        }
        uploader.awaitUploaded(referenced);
    }

    // ---------------------------------------------------------------- snapshots

    /**
     * Takes snapshot {@code name}: every write completed before the call is in it, writes racing
     * with it may or may not be — each wholly or not at all. Costs the upload of the open batch,
     * one LIST and two PUTs, whatever the volume's size; writers wait only while the map is
     * captured. docs/snapshots-and-clones.md.
     *
     * @throws SnapshotExistsException if the volume already has a snapshot of that name
     */
    public SnapshotRecord createSnapshot(String name) throws IOException {
        VolumeKeys.validateSnapshotName(name);
        checkWritable();
        MapCapture c;
        // writeOrder: no write is half applied while the map is captured. A write that does not fit
        // the open batch goes in as two records and two map updates, and a capture between them
        // held half of a write that was never acknowledged.
        writeOrder.lock();
        try {
            writeOutCoalesced();
            c = captureMap(true);
        } finally {
            writeOrder.unlock();
        }
        try {
            awaitCaptured(c.referenced());
            // A fenced writer's objects above the fence are not part of the volume: never snapshot them.
            checkFence();
            checkWritable();
            return Snapshots.write(store, keys, name, c.referenced(), c.covered(), epoch, c.body());
        } finally {
            pins.finished(c.pin());
        }
    }

    /** The clone's parent snapshot, or null for a plain volume. */
    public SnapshotView parent() {
        return parent;
    }

    // ---------------------------------------------------------------- garbage collection (docs/gc.md)

    /**
     * Runs one garbage collection pass now (the background collector runs them every
     * {@code gc.interval}): compacts objects under the live threshold and deletes the objects
     * that are safe to delete.
     */
    public GcReport collectGarbage() throws IOException {
        checkWritable();
        try {
            return gc.collect(true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VolumeException("volume " + keys.volume() + ": interrupted during garbage collection");
        }
    }

    /**
     * What a GC pass would do now (for inspect), with the snapshot pins re-read from the bucket;
     * works on a read-only volume too.
     */
    public VictimSelector.Selection gcEstimate() throws IOException {
        pins.refresh();
        return new VictimSelector(options.gc().liveThreshold()).select(gcCandidates(retired, pins));
    }

    /** Live and stored data bytes over the volume's objects: {live, data, objects}. */
    public long[] liveSummary() {
        long[] sum = new long[3];
        mapLock.lock();
        try {
            objects.forEach(e -> {
                sum[0] += e.liveSectors * SECTOR_SIZE;
                sum[1] += e.dataBytes;
                sum[2]++;
            });
        } finally {
            mapLock.unlock();
        }
        return sum;
    }

    /** Test hook: makes the next GC passes call {@code points} at each named point. */
    void gcCrashPoints(GarbageCollector.CrashPoints points) {
        gc.crashPoints = points;
    }

    /** Test hook: whether GC stores the checkpoints its deletion rule waits for on a quiet volume. */
    void gcMakesCheckpoints(boolean on) {
        gc.makesCheckpoints = on;
    }

    boolean isClosedOrFenced() {
        return closed || fencedBy != null;
    }

    /** Uploaded objects GC may look at: not retired, not pinned by a snapshot ({@code pins} null: pins ignored), with their live bytes. */
    List<VictimSelector.Candidate> gcCandidates(RetiredObjects retired, SnapshotPins pins) {
        long through = uploader == null ? Long.MAX_VALUE : uploader.uploadedThrough();
        List<VictimSelector.Candidate> out = new ArrayList<>();
        mapLock.lock();
        try {
            objects.forEach(e -> {
                if (e.seq <= through && e.headerBytes > 0 && !retired.isRetired(e.seq) && (pins == null || !pins.isPinned(e.seq))) {
                    out.add(new VictimSelector.Candidate(e.seq, e.epoch, e.liveSectors * SECTOR_SIZE, e.dataBytes));
                }
            });
        } finally {
            mapLock.unlock();
        }
        return out;
    }

    ObjectHeader header(long seq, long objectEpoch) throws IOException {
        return reader.header(seq, objectEpoch);
    }

    /** The extents of object {@code h} the map still points at: {lba, sectors, location} each, in LBA order. */
    List<long[]> livePieces(ObjectHeader h) {
        List<long[]> out = new ArrayList<>();
        mapLock.lock();
        try {
            for (int i = 0; i < h.extentCount; i++) {
                if (!h.kindOf(i).hasData()) {
                    continue;
                }
                long lba = h.lba[i];
                long src = Locations.pack(h.objectSeq, h.dataOffsetSectors[i]);
                map.lookup(lba, h.sectors[i], (runLba, n, loc) -> {
                    if (loc != ExtentMap.UNMAPPED && loc == src + (runLba - lba)) {
                        out.add(new long[] {runLba, n, loc});
                    }
                });
            }
        } finally {
            mapLock.unlock();
        }
        // A later extent of the same object may have overwritten an earlier one: the map keeps one.
        out.sort(java.util.Comparator.comparingLong(p -> p[0]));
        List<long[]> unique = new ArrayList<>(out.size());
        for (long[] p : out) {
            if (unique.isEmpty() || unique.getLast()[0] + unique.getLast()[1] <= p[0]) {
                unique.add(p);
            }
        }
        return unique;
    }

    /**
     * GC's read of a victim's data: through the read cache, whose hits it uses, but without filling
     * what it fetches — the victim is about to be deleted, and the GC object it is copied into is
     * filled as it is uploaded.
     */
    void readObjectData(long seq, long objectEpoch, long offsetBytes, ByteBuffer dst, int bytes) throws IOException {
        reader.readWithoutFilling(seq, objectEpoch, offsetBytes, dst, bytes);
    }

    /**
     * Puts a filled GC batch into the log: it takes the next object number (or the number of an
     * empty open batch, which is dropped: no empty batch may sit below a GC object, a checkpoint
     * would wait for it forever), and the map moves to it every sector still where GC copied it
     * from. Returns its object number; the upload goes on in the background.
     */
    long commitMoves(Batch b) throws IOException {
        batchLock.lock();
        try {
            checkWritable();
            long seq;
            if (open != null && open.isEmpty() && open.objectSeq() == nextObjectSeq - 1) {
                seq = open.objectSeq();
                pending.remove(seq);
                open.unpin();
                pendingPermits.release();
                open = null;
            } else {
                seq = nextObjectSeq++;
            }
            b.numberMoves(seq);
            ObjectTable.Entry entry = objects.add(seq, epoch, 0, 0);
            pending.put(seq, b); // before the map points at it: a reader that finds the new location finds the batch
            mapLock.lock();
            try {
                for (int i = 0; i < b.extentCount(); i++) {
                    entry.liveSectors += map.moveIfAt(b.extentLba(i), b.extentSectors(i), b.extentSource(i),
                            Locations.pack(seq, b.extentOffsetSectors(i)), this::displaced);
                }
            } finally {
                mapLock.unlock();
            }
            uploader.submit(b);
            return seq;
        } finally {
            batchLock.unlock();
        }
    }

    long lastCheckpointNanos() {
        return lastCheckpointNanos;
    }

    /**
     * Stores one more checkpoint even if nothing was written since the last one: an empty GC
     * object (a 4 KiB header, no extents) gives it a new object number to stand on. GC calls this
     * on a quiet volume whose retired objects wait for checkpoints that writes would otherwise
     * bring (docs/gc.md, "Deleting").
     */
    void checkpointForGc() throws IOException {
        synchronized (checkpointLock) {
            commitMoves(Batch.forMoves(0, epoch, buffers, options.maxExtentsPerObject()));
            checkpointLocked();
        }
    }

    /** Waits until object {@code seq} and all before it are uploaded, sealing the open batch if it is one of them. */
    void awaitUploadedSealing(long seq) throws IOException {
        awaitCaptured(seq);
    }

    /**
     * Retires every candidate nothing points into any more and no snapshot pins, stamped with
     * the current capture number (GC's deletion rule waits for two checkpoints captured later).
     */
    int retireIfEmpty(List<VictimSelector.Candidate> candidates, RetiredObjects retired, SnapshotPins pins) {
        int n = 0;
        batchLock.lock();
        try {
            mapLock.lock();
            try {
                for (VictimSelector.Candidate c : candidates) {
                    ObjectTable.Entry e = objects.get(c.seq());
                    if (e != null && e.liveSectors == 0 && !pins.isPinned(c.seq()) && !retired.isRetired(c.seq())) {
                        if (CHECK_INVARIANTS) {
                            checkNothingPointsInto(c.seq());
                        }
                        retired.retire(c.seq(), c.epoch(), captureCount, e.dataBytes);
                        n++;
                    } else if (e != null && e.liveSectors < 0) {
                        throw new IllegalStateException(keys.volume() + ": object " + c.seq() + " has " + e.liveSectors + " live sectors");
                    }
                }
            } finally {
                mapLock.unlock();
            }
        } finally {
            batchLock.unlock();
        }
        return n;
    }

    /** Test builds ({@code -Dstrata.checkInvariants=true}, set by the build for tests) verify GC's live counts. */
    private static final boolean CHECK_INVARIANTS = Boolean.getBoolean("strata.checkInvariants");

    /** mapLock held: the live count said 0; the map must agree (a full scan: tests only). */
    private void checkNothingPointsInto(long seq) {
        map.forEach((lba, sectors, location) -> {
            if (Locations.objectSeq(location) == seq) {
                throw new IllegalStateException(keys.volume() + ": object " + seq + " has no live sector by its count, but LBA "
                        + lba + " (+" + sectors + ") maps into it");
            }
        });
    }

    /** A deleted object leaves the table (and the next checkpoint) and the node's read cache; returns its size. */
    long forgetObject(long seq) {
        ObjectTable.Entry e;
        mapLock.lock();
        try {
            e = objects.get(seq);
            objects.remove(seq);
        } finally {
            mapLock.unlock();
        }
        if (e == null) {
            reader.forgetHeader(seq);
            return 0;
        }
        reader.forgetDeleted(seq, e.epoch, e.dataBytes);
        return e.headerBytes + e.dataBytes;
    }

    /** GC counters: passes, objects compacted and deleted, bytes copied and deleted. */
    public String gcStats() {
        GarbageCollector.Stats s = gc == null ? null : gc.stats;
        return s == null ? "gc off" : "passes=" + s.passes.sum() + " compacted=" + s.objectsCompacted.sum() + " copiedBytes="
                + s.bytesCopied.sum() + " gcObjects=" + s.gcObjectsWritten.sum() + " deleted=" + s.objectsDeleted.sum()
                + " deletedBytes=" + s.bytesDeleted.sum() + " waiting=" + retired.size();
    }

    // ---------------------------------------------------------------- close and crash

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            if (!readOnly && fencedBy == null) {
                flushToBucket();
                awaitDurable(journal.lastAppendedSeq());
                checkpoint();
                store.put(keys.epochReleased(epoch), ByteBuffer.wrap(
                        ("released " + java.time.Instant.now() + " last object " + uploader.uploadedThrough() + "\n").getBytes()));
            }
        } finally {
            stopBackground();
            joinQuietly(epochPruning); // a few requests; a closed volume leaves nothing running behind it
            if (journal != null) {
                journal.close();
            }
            if (parent != null) {
                parent.close();
            }
            onClose.run();
        }
    }

    /** Marks the volume closed and stops the sealer and the uploader (uploads in flight are abandoned). */
    private void stopBackground() {
        closed = true;
        if (sealer != null) {
            sealer.interrupt();
        }
        if (gcThread != null) {
            gcThread.interrupt();
        }
        if (uploader != null) {
            uploader.stop();
        }
    }

    /**
     * Test hook: stops like a killed process would — no flush, no upload, no checkpoint, no
     * release of the epoch; journal bytes not yet written by the journal's writer are lost.
     */
    void crashForTest(boolean powerCut) {
        stopBackground();
        // A dead process's threads do nothing more. Here they live on, and every bucket change
        // they might still make checks `closed` first; wait for them to notice, so the restart
        // that follows never races a ghost of the old process (only requests already in flight
        // when a real process dies can still land, and they are allowed to).
        joinQuietly(gcThread);
        joinQuietly(checkpointThread);
        joinQuietly(epochPruning);
        if (coalescer != null) {
            coalescer.crash(); // its pending bytes were never in the journal
        }
        if (journal != null) {
            journal.crashForTest(powerCut);
        }
        onClose.run();
    }

    private static void joinQuietly(Thread t) {
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---------------------------------------------------------------- checks

    private void checkOpen() throws VolumeClosedException {
        if (closed) {
            throw new VolumeClosedException("volume " + keys.volume() + " is closed");
        }
    }

    private void checkWritable() throws IOException {
        checkOpen();
        if (readOnly) {
            throw new ReadOnlyVolumeException("volume " + keys.volume() + " is open read-only");
        }
        if (fencedBy != null) {
            throw new VolumeFencedException("volume " + keys.volume() + " epoch " + epoch + " was taken over by " + fencedBy);
        }
        if (localStateLost != null) {
            throw new LocalStateLostException("volume " + keys.volume() + " epoch " + epoch + " takes no more writes: " + localStateLost);
        }
    }

    private void checkRange(String what, long offset, long length) throws OutOfRangeException {
        if (offset < 0 || length < 0 || offset % SECTOR_SIZE != 0 || length % SECTOR_SIZE != 0) {
            throw new OutOfRangeException(what + " of volume " + keys.volume() + " at offset " + offset + " length " + length
                    + ": not aligned to " + SECTOR_SIZE + " bytes");
        }
        if (offset / SECTOR_SIZE + length / SECTOR_SIZE > sizeSectors) {
            throw new OutOfRangeException(what + " of volume " + keys.volume() + " at offset " + offset + " length " + length
                    + ": past the end (" + superblock.sizeBytes() + " bytes)");
        }
    }
}
