package dev.strata.engine.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The write journal of one volume on local NVMe: records are appended to an in-memory staging
 * buffer and acknowledged at once; one writer thread turns the buffer into entries (group
 * commits), writes each with one positional write, and forces (fdatasync) when someone waits
 * for durability or the sync interval has elapsed. Format, rules and failure behaviour are in
 * docs/journal.md.
 *
 * <p>Threads and locks:
 * <ul>
 * <li>{@link #lock} guards the staging state ({@link #filling}, {@link #spare}, sequence
 *     numbers, {@link #requestedSeq}, {@link #closing}, {@link #failure}); appenders and
 *     durability waiters take it briefly, the writer takes it only to hand batches over.</li>
 * <li>The writer thread owns the batch it took, the active segment, its write position and the
 *     CRC; it does all file I/O without holding {@link #lock}.</li>
 * <li>{@link SegmentSpace} has its own lock for the segment lists; never held with {@link #lock}.</li>
 * </ul>
 * All public methods are safe to call from any thread.
 */
public final class Journal implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Journal.class.getName());
    private static final long NONE = Long.MIN_VALUE;

    private final Path dir;
    private final String volumeId;
    private final JournalOptions options;
    private final SegmentSpace space;
    private final long syncIntervalNanos;
    private final int maxSectorsPerRecord;

    private final ReentrantLock lock = new ReentrantLock();
    /** The writer waits here for work: a full batch, a waiter, the sync deadline, close. */
    private final Condition writerWake = lock.newCondition();
    /** Appenders wait here for the writer to take the full batch (double buffering). */
    private final Condition batchTaken = lock.newCondition();
    /** Durability waiters wait here. */
    private final Condition durableAdvanced = lock.newCondition();

    /** Both batches, for {@link EntryBatch#recycle} once the writer has exited after a close or a test crash (package-private: tests). */
    final EntryBatch[] batches;
    private final java.util.concurrent.atomic.AtomicBoolean batchesRecycled = new java.util.concurrent.atomic.AtomicBoolean();

    // ---- guarded by lock ----
    /** The batch appenders copy into. */
    private EntryBatch filling;
    /** The other batch, or null while the writer holds it. */
    private EntryBatch spare;
    private long nextSeq;
    /** Last sequence number written to a segment file (not necessarily forced). */
    private long writtenSeq;
    /** Last sequence number forced to disk; volatile so the fast path of awaitDurable needs no lock. */
    private volatile long durableSeq;
    /** Highest sequence number a waiter wants durable. */
    private long requestedSeq;
    /** When the oldest record not yet forced was appended (System.nanoTime), or NONE. */
    private long oldestUnforcedNanos = NONE;
    private boolean closing;
    /** Test hook {@link #crashForTest}: the writer stops at once, writing and forcing nothing more. */
    private boolean crashed;
    private Throwable failure;
    private long recordsAppended;
    private long stagingWaits;

    // ---- writer thread only ----
    private SegmentFile active;
    private long activePos;
    private long activeLastSeq;
    private boolean activeUnforced;
    /** Bytes of the active segment known forced to disk (a power cut keeps at least these). */
    private long activeForcedPos;
    private final CRC32C crc = new CRC32C();

    private final AtomicLong entriesWritten = new AtomicLong();
    private final AtomicLong bytesWritten = new AtomicLong();
    private final AtomicLong fsyncs = new AtomicLong();

    private final Thread writer;

    private Journal(Path dir, String volumeId, JournalOptions options, SegmentSpace space, long nextSeq) {
        this.dir = dir;
        this.volumeId = volumeId;
        this.options = options;
        this.space = space;
        this.syncIntervalNanos = options.syncInterval().toNanos();
        this.maxSectorsPerRecord = options.maxEntryDataBytes() / JournalFormat.SECTOR;
        this.batches = EntryBatch.pairForWriting(options.maxEntryDataBytes());
        this.filling = batches[0];
        this.spare = batches[1];
        this.nextSeq = nextSeq;
        this.writtenSeq = nextSeq - 1;
        this.durableSeq = nextSeq - 1;
        this.requestedSeq = nextSeq - 1;
        // A platform thread: it spends its life in blocking file I/O and would pin a carrier anyway.
        this.writer = Thread.ofPlatform().name("strata-journal-writer-" + volumeId).daemon(true).unstarted(this::runWriter);
    }

    /**
     * Opens the journal of {@code volumeId} in {@code dir} for appending; creates the directory
     * if needed. Existing segments are rescanned: those holding the valid chain stay until
     * {@link #releaseThrough} covers them, the volume's other segments are recycled, and
     * appending starts in a fresh segment, so nothing still needed is overwritten.
     *
     * @param nextSeq the sequence number of the next record: the last valid one + 1 when the
     *                directory holds records (see {@link JournalReplayer}), any positive number
     *                otherwise
     * @throws IllegalArgumentException if {@code nextSeq} does not continue the records on disk
     */
    public static Journal open(Path dir, JournalOptions options, String volumeId, long nextSeq) throws IOException {
        Objects.requireNonNull(options, "options");
        SegmentHeader.checkVolumeId(volumeId);
        if (nextSeq < 1) {
            throw new IllegalArgumentException("journal " + dir + ": nextSeq must be >= 1, got " + nextSeq);
        }
        Files.createDirectories(dir);
        deleteTemporaries(dir);
        ReplayResult scan = JournalReplayer.scan(dir, volumeId);
        if (scan.chainLastSeq() > 0 && nextSeq != scan.chainLastSeq() + 1) {
            throw new IllegalArgumentException("journal " + dir + ": holds records " + scan.firstSeq() + ".." + scan.chainLastSeq()
                    + " of volume " + volumeId + ", so the next sequence number must be " + (scan.chainLastSeq() + 1) + ", not " + nextSeq);
        }
        long maxId = -1;
        for (SegmentSummary s : scan.segments()) {
            maxId = Math.max(maxId, s.segmentId());
        }
        SegmentChannels channels = new SegmentChannels(dir, options.directIo(), options.writebackPacing());
        SegmentSpace space = new SegmentSpace(dir, volumeId, options, channels, maxId + 1);
        for (SegmentSummary s : scan.segments()) {
            switch (s.role()) {
                case CHAIN -> space.adoptClosed(s.path(), s.segmentId(), s.lastSeq());
                case EMPTY, INVALID_HEADER, AFTER_BREAK -> space.adoptUnneeded(s.path());
                case FOREIGN -> LOG.log(System.Logger.Level.WARNING,
                        "journal {0}: leaving segment {1} of volume {2} alone", dir, s.path().getFileName(), s.volumeId());
            }
        }
        if (scan.chainBroken() || scan.stopReason().suspicious()) {
            LOG.log(System.Logger.Level.WARNING, "journal {0}: opened after an unclean end: {1}", dir, scan.describe());
        }
        Journal journal = new Journal(dir, volumeId, options, space, nextSeq);
        journal.writer.start();
        return journal;
    }

    /**
     * Deletes every segment file of {@code volumeId} in {@code dir} (and files whose header cannot
     * be read), leaving other volumes' segments alone. For a deleted volume, or when the engine
     * has recovered what it could from a journal it cannot continue (a replay that reported
     * missing records makes {@link #open} refuse the old chain). Must not run while a journal
     * is open on {@code dir}.
     *
     * @return the number of files deleted
     */
    public static int deleteSegments(Path dir, String volumeId) throws IOException {
        int deleted = 0;
        for (SegmentSummary s : JournalReplayer.scan(dir, volumeId).segments()) {
            if (s.role() != SegmentSummary.Role.FOREIGN) {
                Files.deleteIfExists(s.path());
                deleted++;
            }
        }
        if (Files.isDirectory(dir)) {
            deleteTemporaries(dir);
            SegmentFile.forceDirectory(dir);
        }
        return deleted;
    }

    private static void deleteTemporaries(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith(SegmentFile.PREFIX) && name.endsWith(SegmentFile.TMP_SUFFIX)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * Appends a record and returns its sequence number once it is in the staging buffer (not
     * yet durable: see {@link #awaitDurable}). A WRITE larger than {@code maxEntryDataBytes} is
     * split into several WRITE records at consecutive LBAs; the last one's number is returned.
     * Blocks (interruptibly, without timeout) while the journal is out of space.
     *
     * @param data for WRITE, exactly {@code sectors × 512} remaining bytes (its position is not
     *             moved); null for TRIM and ZERO
     * @throws IOException if the journal is closed or has failed
     */
    public long append(long epoch, long lba, int sectors, RecordKind kind, ByteBuffer data) throws IOException, InterruptedException {
        Objects.requireNonNull(kind, "kind");
        if (sectors <= 0 || lba < 0) {
            throw new IllegalArgumentException("journal " + dir + ": bad record: lba " + lba + ", sectors " + sectors);
        }
        if (kind.hasData()) {
            if (data == null || data.remaining() != (long) sectors * JournalFormat.SECTOR) {
                throw new IllegalArgumentException("journal " + dir + ": WRITE of " + sectors + " sectors needs "
                        + (long) sectors * JournalFormat.SECTOR + " data bytes, got " + (data == null ? "null" : data.remaining()));
            }
        } else if (data != null && data.hasRemaining()) {
            throw new IllegalArgumentException("journal " + dir + ": " + kind + " records carry no data");
        }
        lock.lockInterruptibly();
        try {
            long seq = 0;
            int done = 0;
            int srcAt = data == null ? 0 : data.position();
            boolean waited = false;
            do {
                int n = kind.hasData() ? Math.min(sectors - done, maxSectorsPerRecord) : sectors;
                int len = kind.hasData() ? n * JournalFormat.SECTOR : 0;
                EntryBatch batch;
                while ((batch = batchWithRoom(len)) == null) {
                    if (!waited) {
                        waited = true;
                        stagingWaits++;
                    }
                    batchTaken.await();
                }
                seq = nextSeq++;
                batch.add(seq, epoch, lba + done, n, kind, data, srcAt + done * JournalFormat.SECTOR, len);
                recordsAppended++;
                if (oldestUnforcedNanos == NONE) {
                    oldestUnforcedNanos = System.nanoTime();
                    writerWake.signal(); // the writer may be waiting without a deadline
                }
                done += n;
            } while (done < sectors);
            return seq;
        } finally {
            lock.unlock();
        }
    }

    /** Lock held. The batch to add a record of {@code len} data bytes to, or null if the caller must wait. */
    private EntryBatch batchWithRoom(int len) throws IOException {
        checkUsable("append refused");
        if (filling.full) {
            return null;
        }
        if (filling.fits(len)) {
            return filling;
        }
        filling.full = true; // the writer takes it now; the spare becomes the filling batch
        writerWake.signal();
        return null;
    }

    /** Lock held. */
    private void checkUsable(String what) throws IOException {
        if (failure != null) {
            throw new IOException("journal " + dir + " has failed; " + what, failure);
        }
        if (closing) {
            throw new IOException("journal " + dir + " is closed; " + what);
        }
    }

    /**
     * Blocks until every record ≤ {@code seq} is durable (written and forced). Concurrent callers
     * share one write and one fdatasync.
     *
     * @throws IOException if the journal failed before {@code seq} became durable
     * @throws IllegalArgumentException if {@code seq} has not been appended
     */
    public void awaitDurable(long seq) throws IOException, InterruptedException {
        if (seq <= durableSeq) {
            return;
        }
        lock.lockInterruptibly();
        try {
            if (seq >= nextSeq) {
                throw new IllegalArgumentException("journal " + dir + ": sequence " + seq + " has not been appended (last is " + (nextSeq - 1) + ")");
            }
            while (durableSeq < seq) {
                if (failure != null) {
                    throw new IOException("journal " + dir + " has failed; sequence " + seq + " is not durable (durable through "
                            + durableSeq + ")", failure);
                }
                if (seq > requestedSeq) {
                    requestedSeq = seq;
                    writerWake.signal();
                }
                durableAdvanced.await();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Blocks until everything appended so far is durable. */
    public void flush() throws IOException, InterruptedException {
        awaitDurable(lastAppendedSeq());
    }

    public long lastAppendedSeq() {
        lock.lock();
        try {
            return nextSeq - 1;
        } finally {
            lock.unlock();
        }
    }

    public long durableSeq() {
        return durableSeq;
    }

    /**
     * Every record ≤ {@code seq} is safely in the bucket: segments holding only such records are
     * recycled now (by the calling thread), which unblocks appenders waiting for space.
     */
    public void releaseThrough(long seq) throws IOException {
        space.releaseThrough(seq);
    }

    /**
     * True when appends are (or are about to be) waiting for a release: every segment holds
     * records not yet in the bucket. The engine then seals and uploads its open batch at once
     * instead of waiting for the batch to fill or age.
     */
    public boolean underSpacePressure() {
        return space.nearlyFull();
    }

    public JournalStats stats() {
        long appended;
        long waits;
        lock.lock();
        try {
            appended = recordsAppended;
            waits = stagingWaits;
        } finally {
            lock.unlock();
        }
        return new JournalStats(appended, entriesWritten.get(), bytesWritten.get(), fsyncs.get(), space.spaceWaits.get(), waits,
                space.created.get(), space.recycled.get());
    }

    public Path directory() {
        return dir;
    }

    public String volumeId() {
        return volumeId;
    }

    public JournalOptions options() {
        return options;
    }

    /** Segment files of this volume in the directory right now (closed, free and active). */
    public int segmentFiles() {
        return space.files();
    }

    /**
     * Writes and forces what is buffered, stops the writer thread and closes the files. Later
     * appends throw. Blocks while the journal is out of space (the engine's uploads free it).
     *
     * @throws IOException if the journal failed, so buffered records may not be durable
     */
    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            closing = true;
            writerWake.signal();
            batchTaken.signalAll();
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        while (writer.isAlive()) {
            try {
                writer.join();
            } catch (InterruptedException e) {
                interrupted = true; // finish closing first: the writer is forcing our data
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        space.close();
        recycleBatches();
        lock.lock();
        try {
            if (failure != null) {
                throw new IOException("journal " + dir + " has failed; records after " + durableSeq + " may be lost", failure);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Gives the batches' slab to the next journal, once: called by close and the test crash hook
     * after the writer has exited, when appends are already refused (closing or failure is set),
     * so nothing touches the batches again.
     */
    private void recycleBatches() {
        if (batchesRecycled.compareAndSet(false, true)) {
            EntryBatch.recycle(batches);
        }
    }

    // ------------------------------------------------------------------ writer thread

    private void runWriter() {
        try {
            while (true) {
                EntryBatch batch = null;
                boolean sync;
                long takenNanos;
                lock.lock();
                try {
                    while (true) {
                        if (crashed) {
                            return;
                        }
                        long now = System.nanoTime();
                        boolean unforced = nextSeq - 1 > durableSeq;
                        boolean due = unforced && oldestUnforcedNanos != NONE && now - oldestUnforcedNanos >= syncIntervalNanos;
                        sync = requestedSeq > durableSeq || due || (closing && unforced);
                        if (filling.count > 0 && (filling.full || sync)) {
                            batch = filling;
                            filling = spare;
                            spare = null;
                            batchTaken.signalAll();
                            break;
                        }
                        if (sync && writtenSeq > durableSeq) {
                            break; // only a force is needed
                        }
                        if (closing) {
                            return; // everything appended is durable
                        }
                        if (unforced && oldestUnforcedNanos != NONE) {
                            writerWake.awaitNanos(oldestUnforcedNanos + syncIntervalNanos - now);
                        } else {
                            writerWake.await();
                        }
                    }
                    takenNanos = System.nanoTime();
                } finally {
                    lock.unlock();
                }

                if (batch != null) {
                    writeEntry(batch);
                }
                if (sync && activeUnforced && !isCrashed()) {
                    active.force();
                    fsyncs.incrementAndGet();
                    activeUnforced = false;
                    activeForcedPos = activePos;
                }

                lock.lock();
                try {
                    if (batch != null) {
                        writtenSeq = batch.lastSeq();
                        batch.reset();
                        spare = batch;
                        batchTaken.signalAll();
                    }
                    if (sync) {
                        durableSeq = writtenSeq;
                        durableAdvanced.signalAll();
                        oldestUnforcedNanos = nextSeq - 1 > durableSeq ? takenNanos : NONE;
                    }
                } finally {
                    lock.unlock();
                }
            }
        } catch (Throwable t) {
            fail(t);
        } finally {
            closeActive();
        }
    }

    /** Writer thread: one entry, one positional write, in the active segment or the next one. */
    private void writeEntry(EntryBatch batch) throws IOException, InterruptedException {
        int size = batch.entryBytes();
        if (active == null || activePos + size > options.segmentSize()) {
            if (active != null && activeUnforced) {
                // Force before leaving: durableSeq later covers records in this segment too.
                active.force();
                fsyncs.incrementAndGet();
                activeUnforced = false;
            }
            SegmentFile previous = active;
            active = null; // if next() fails, nothing is left to close twice
            active = space.next(previous, activeLastSeq);
            activePos = JournalFormat.BLOCK;
            activeForcedPos = JournalFormat.BLOCK;
        }
        EntryHeader.encode(batch, active.id(), crc);
        ByteBuffer entry = batch.entry.clear().limit(size);
        try {
            active.write(entry, activePos);
        } catch (IOException e) {
            throw new IOException("journal " + dir + ": writing entry of sequence " + batch.firstSeq + ".." + batch.lastSeq()
                    + " to " + active.path().getFileName() + " at offset " + activePos + " failed", e);
        }
        activePos += size;
        activeLastSeq = batch.lastSeq();
        activeUnforced = true;
        entriesWritten.incrementAndGet();
        bytesWritten.addAndGet(size);
    }

    private void fail(Throwable t) {
        LOG.log(System.Logger.Level.ERROR, "journal " + dir + " failed; appends and flushes will throw", t);
        lock.lock();
        try {
            if (failure == null) {
                failure = t;
            }
            writerWake.signalAll();
            batchTaken.signalAll();
            durableAdvanced.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private boolean isCrashed() {
        lock.lock();
        try {
            return crashed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Test hook: stops the journal the way a killed process (or, with {@code powerCut}, a lost
     * machine) would. Records still in the staging buffers never reach the file and nothing more
     * is forced; with {@code powerCut}, the bytes of the active segment written after its last
     * force are torn: a random-length prefix of them survives, the rest becomes garbage. Later
     * calls on this journal fail. Used by the engine's crash tests only.
     */
    public void crashForTest(boolean powerCut) {
        lock.lock();
        try {
            crashed = true;
            if (failure == null) {
                failure = new IOException("journal " + dir + " crashed (test hook)");
            }
            writerWake.signalAll();
            batchTaken.signalAll();
            durableAdvanced.signalAll();
        } finally {
            lock.unlock();
        }
        writer.interrupt(); // it may be waiting for segment space, which no one will release now
        boolean interrupted = false;
        while (writer.isAlive()) {
            try {
                writer.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        recycleBatches();
        if (powerCut && tornPath != null && tornTo > tornFrom) {
            java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
            long keep = tornFrom + r.nextLong(tornTo - tornFrom + 1);
            try (var ch = java.nio.channels.FileChannel.open(tornPath, java.nio.file.StandardOpenOption.WRITE)) {
                byte[] junk = new byte[(int) Math.min(tornTo - keep, 1 << 20)];
                r.nextBytes(junk);
                if (r.nextBoolean()) {
                    java.util.Arrays.fill(junk, (byte) 0);
                }
                ch.write(ByteBuffer.wrap(junk), keep);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        space.close();
    }

    /** Set by the writer thread when it stops: the unforced byte range of the active segment. */
    private Path tornPath;
    private long tornFrom;
    private long tornTo;

    private void closeActive() {
        if (active != null) {
            tornPath = active.path();
            tornFrom = activeUnforced ? activeForcedPos : activePos;
            tornTo = activePos;
            try {
                active.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "journal {0}: closing {1}: {2}", dir, active.path().getFileName(), e);
            }
            active = null;
        }
    }

    @Override
    public String toString() {
        return "Journal[" + dir + ", volume " + volumeId + "]";
    }
}
