package dev.strata.engine.pacing;

import java.nio.file.Path;

/**
 * Keeps the page cache of one file written sequentially through it bounded, so the kernel never
 * builds up hundreds of MB of dirty pages and then stalls writers in a burst of writeback
 * (libfreemkv's pipeline is the model; docs/writeback-pacing.md has the why and the numbers).
 *
 * <p>Tell it about every write after it happened ({@link #onWrite}). Each time a chunk's worth
 * of new bytes has been written:
 * <ol>
 * <li>{@code sync_file_range(WRITE)} on that chunk: start its writeback now, asynchronously;</li>
 * <li>{@code sync_file_range(WAIT_BEFORE|WRITE|WAIT_AFTER)} on the previous chunk, which has had
 *     a whole chunk's time to drain, so the wait is usually short; this is where a writer that
 *     is faster than the device is slowed down to the device's pace, a little at every chunk
 *     instead of a lot when the kernel's dirty limit is hit;</li>
 * <li>{@code posix_fadvise(DONTNEED)} on the previous chunk, now clean, so the file does not
 *     push other data out of the page cache.</li>
 * </ol>
 * Dirty plus under-writeback pages of the file stay below about 2 chunks; the chunk size adapts
 * to the measured stalls at chunk boundaries ({@link ChunkSizer}). A write that does not continue the previous one
 * ends the current run ({@link #onWrite} handles it like a chunk boundary) and starts a new one.
 *
 * <p>It is a hint layer: nothing here is about durability (callers still fdatasync), and it
 * never throws; if the hints are unavailable or fail it does nothing.
 *
 * <p>Ownership and threads: one pacer per file, used by the single thread that writes that file
 * (not thread-safe; no locking, no allocation per write). {@link #close()} drains and closes the
 * hint fd if the pacer owns it ({@link #open}); the file's channel is the caller's.
 */
public final class WritebackPacer implements AutoCloseable {
    private static final int FINALIZE = LinuxFileHints.SYNC_FILE_RANGE_WAIT_BEFORE
            | LinuxFileHints.SYNC_FILE_RANGE_WRITE | LinuxFileHints.SYNC_FILE_RANGE_WAIT_AFTER;

    private final HintedFile file;
    private final boolean ownsFile;
    private final ChunkSizer sizer;

    /** Start of the written bytes whose writeback has not been started yet; -1 before any write. */
    private long runStart = -1;
    /** End of the last write; the next write is sequential if it starts here. */
    private long writtenEnd = -1;
    /** The chunk whose writeback was started and which is not finalised yet; length 0 = none. */
    private long pendingOffset;
    private long pendingLength;

    private long chunks;
    private long waitNanosTotal;
    private long stallNanosTotal;
    private long stallNanosMax;
    private long discontinuities;

    private WritebackPacer(HintedFile file, boolean ownsFile, PacingPolicy policy) {
        this.file = file;
        this.ownsFile = ownsFile;
        this.sizer = new ChunkSizer(policy);
    }

    /** A pacer for {@code path} that opens (and on close, closes) its own hint fd via {@code hints}. */
    public static WritebackPacer open(LinuxFileHints hints, Path path, PacingPolicy policy) {
        return new WritebackPacer(hints.open(path), true, policy);
    }

    /** A pacer over a hint fd the caller owns (and closes after the pacer). */
    public static WritebackPacer over(HintedFile file, PacingPolicy policy) {
        return new WritebackPacer(file, false, policy);
    }

    /** Whether the hints work for this file; when false every call is a no-op. */
    public boolean active() {
        return file.active();
    }

    /** Bytes {@code [offset, offset + length)} of the file were just written (through the page cache). */
    public void onWrite(long offset, long length) {
        if (length <= 0 || !file.active()) {
            return;
        }
        if (offset != writtenEnd) {
            if (writtenEnd >= 0) {
                discontinuities++;
                endChunk(false); // the run is over: start writeback of its tail, finalise the one before
            }
            runStart = offset;
        }
        writtenEnd = offset + length;
        if (writtenEnd - runStart >= sizer.chunkBytes()) {
            endChunk(true);
        }
    }

    /**
     * Kicks [runStart, writtenEnd) and finalises the pending chunk; {@code measured}: feed the
     * stall to the sizer. The stall is timed from before the kick: {@code sync_file_range(WRITE)}
     * submits the I/O in the caller's thread and blocks while the device queue is full, so for
     * large chunks the kick, not the wait, is most of what the writer sees (measured).
     */
    private void endChunk(boolean measured) {
        long offset = runStart;
        long length = writtenEnd - runStart;
        long t0 = System.nanoTime();
        if (length > 0) {
            file.syncFileRange(offset, length, LinuxFileHints.SYNC_FILE_RANGE_WRITE);
        }
        if (pendingLength > 0) {
            long tWait = System.nanoTime();
            boolean waited = file.syncFileRange(pendingOffset, pendingLength, FINALIZE);
            long waitNanos = System.nanoTime() - tWait;
            if (waited) {
                file.fadvise(pendingOffset, pendingLength, LinuxFileHints.POSIX_FADV_DONTNEED);
                long stall = System.nanoTime() - t0;
                chunks++;
                waitNanosTotal += waitNanos;
                stallNanosTotal += stall;
                stallNanosMax = Math.max(stallNanosMax, stall);
                if (measured) {
                    sizer.record(stall);
                }
            }
        }
        if (length > 0) {
            pendingOffset = offset;
            pendingLength = length;
        } else {
            pendingLength = 0;
        }
        runStart = writtenEnd;
    }

    /**
     * Writes back (and waits for) everything this pacer has seen written and drops it from the
     * page cache. For the end of a file's writing, e.g. before closing it. Idempotent.
     */
    public void finish() {
        if (!file.active()) {
            return;
        }
        if (pendingLength > 0) {
            if (file.syncFileRange(pendingOffset, pendingLength, FINALIZE)) {
                file.fadvise(pendingOffset, pendingLength, LinuxFileHints.POSIX_FADV_DONTNEED);
            }
            pendingLength = 0;
        }
        if (writtenEnd > runStart && runStart >= 0) {
            if (file.syncFileRange(runStart, writtenEnd - runStart, FINALIZE)) {
                file.fadvise(runStart, writtenEnd - runStart, LinuxFileHints.POSIX_FADV_DONTNEED);
            }
            runStart = writtenEnd;
        }
    }

    /** {@link #finish()}, then closes the hint fd if this pacer opened it. */
    @Override
    public void close() {
        try {
            finish();
        } finally {
            if (ownsFile) {
                file.close();
            }
        }
    }

    /** The current chunk size. */
    public long chunkBytes() {
        return sizer.chunkBytes();
    }

    /** Chunks finalised (waited for and dropped from the page cache). */
    public long chunks() {
        return chunks;
    }

    /** Time spent in {@code sync_file_range(WAIT_BEFORE|WRITE|WAIT_AFTER)} on finalised chunks. */
    public long waitNanosTotal() {
        return waitNanosTotal;
    }

    /** Time the writer spent at chunk boundaries (kick + wait + fadvise), in total and at most. */
    public long stallNanosTotal() {
        return stallNanosTotal;
    }

    public long stallNanosMax() {
        return stallNanosMax;
    }

    /** Writes that did not continue the previous one. */
    public long discontinuities() {
        return discontinuities;
    }

    /** Chunk size changes so far. */
    public long resizes() {
        return sizer.resizes();
    }

    @Override
    public String toString() {
        return "WritebackPacer[" + file.path() + ", chunk " + sizer.chunkBytes() + " B, " + chunks + " chunks, stall max "
                + stallNanosMax / 1_000_000 + " ms" + (file.active() ? "" : ", inactive") + "]";
    }
}
