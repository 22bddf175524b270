package dev.strata.engine.journal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The segment files of one open journal and the space they give: which segments hold records
 * still needed (closed, with their last sequence number), which are free (recycled, empty), how
 * many files exist, and waiting for space when all {@code maxSegments} are in use.
 *
 * <p>Locking: {@link #lock} guards every field below it. The writer thread takes it only in
 * {@link #next} (moving to another segment); {@code releaseThrough} callers take it to recycle.
 * File I/O for creation and recycling happens under the lock on purpose: it keeps segment ids
 * handed out in file-write order (a free segment's id is always greater than the active one's),
 * and it only ever delays the writer at a segment switch. Never held together with the
 * journal's staging lock.
 */
final class SegmentSpace implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SegmentSpace.class.getName());

    /** A segment holding records, waiting for its last record to be released. */
    private record Closed(Path path, long id, long lastSeq) {
    }

    private final Path dir;
    private final String volumeId;
    private final JournalOptions options;
    private final SegmentChannels channels;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a segment becomes free. */
    private final Condition freed = lock.newCondition();
    /** Next id for a created or recycled segment: greater than every id in the directory. */
    private long nextId;
    /** Closed segments in id (= sequence) order. */
    private final ArrayDeque<Closed> closed = new ArrayDeque<>();
    /** Recycled, empty segments by id; the smallest is used first. */
    private final TreeMap<Long, Path> free = new TreeMap<>();
    /** Segment files of this volume: closed + free + the active one. */
    private int files;
    /** Highest sequence number released so far. */
    private long released;

    final AtomicLong spaceWaits = new AtomicLong();
    /** True while the writer waits for a segment to be released (read by the engine to seal batches early). */
    volatile boolean waitingForRelease;
    final AtomicLong created = new AtomicLong();
    final AtomicLong recycled = new AtomicLong();

    SegmentSpace(Path dir, String volumeId, JournalOptions options, SegmentChannels channels, long firstFreeId) {
        this.dir = dir;
        this.volumeId = volumeId;
        this.options = options;
        this.channels = channels;
        this.nextId = firstFreeId;
    }

    /** At open: a segment of the previous run whose records are still needed until released. */
    void adoptClosed(Path path, long id, long lastSeq) {
        lock.lock();
        try {
            closed.addLast(new Closed(path, id, lastSeq));
            files++;
        } finally {
            lock.unlock();
        }
    }

    /** At open: a segment of this volume that holds no needed record; recycled at once. */
    void adoptUnneeded(Path path) throws IOException {
        lock.lock();
        try {
            files++;
            recycle(path);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Writer thread: closes {@code current} (whose last record is {@code currentLastSeq}; null
     * when there is no active segment yet) and returns the next segment to write, opened. Waits
     * for a release when every segment is in use.
     */
    SegmentFile next(SegmentFile current, long currentLastSeq) throws IOException, InterruptedException {
        lock.lockInterruptibly();
        try {
            if (current != null) {
                current.close();
                closed.addLast(new Closed(current.path(), current.id(), currentLastSeq));
                recycleReleased();
            }
            boolean counted = false;
            while (true) {
                Map.Entry<Long, Path> f = free.pollFirstEntry();
                if (f != null) {
                    return SegmentFile.open(f.getValue(), f.getKey(), channels);
                }
                if (files < options.maxSegments()) {
                    SegmentFile segment = SegmentFile.create(dir, nextId, volumeId, options.segmentSize(), channels);
                    nextId++;
                    files++;
                    created.incrementAndGet();
                    return segment;
                }
                if (!counted) {
                    counted = true;
                    spaceWaits.incrementAndGet();
                    LOG.log(System.Logger.Level.DEBUG, "journal {0}: all {1} segments in use, waiting for a release", dir, files);
                }
                waitingForRelease = true;
                try {
                    freed.await();
                } finally {
                    waitingForRelease = false;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** True when the next segment switch would wait for a release (or one already waits). */
    boolean nearlyFull() {
        lock.lock();
        try {
            return waitingForRelease || (files >= options.maxSegments() && free.isEmpty() && closed.size() >= files - 1);
        } finally {
            lock.unlock();
        }
    }

    /** Every record ≤ {@code seq} is safely in the bucket: recycle the closed segments it covers. */
    void releaseThrough(long seq) throws IOException {
        lock.lock();
        try {
            if (seq > released) {
                released = seq;
                recycleReleased();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Lock held. */
    private void recycleReleased() throws IOException {
        while (!closed.isEmpty() && closed.peekFirst().lastSeq() <= released) {
            recycle(closed.pollFirst().path());
        }
    }

    /** Lock held. On failure the file is deleted (its records are released) so capacity is not lost. */
    private void recycle(Path path) throws IOException {
        long id = nextId++;
        try {
            SegmentFile.recycle(dir, path, id, volumeId, options.segmentSize(), channels);
        } catch (IOException e) {
            files--;
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir.resolve(SegmentFile.fileName(id)));
            freed.signalAll(); // a file fewer: the writer may create a new one
            throw e;
        }
        free.put(id, dir.resolve(SegmentFile.fileName(id)));
        recycled.incrementAndGet();
        freed.signalAll();
    }

    int files() {
        lock.lock();
        try {
            return files;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        // Nothing open: closed and free segments keep no channel; the writer closes the active one.
    }
}
