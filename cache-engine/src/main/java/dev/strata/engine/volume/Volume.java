package dev.strata.engine.volume;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A block device: what the NBD server (and later the CSI node) serves.
 *
 * <p>Two real implementations: {@link LogStructuredVolume}, the writable engine volume, and
 * read-only views of a snapshot. Offsets and lengths are bytes and must be multiples of
 * {@link #sectorSize()}; requests past {@link #size()} fail with {@link OutOfRangeException}.
 *
 * <p>Durability follows block-device rules: {@link #write} promises nothing until
 * {@link #flush()} returns (or the write carried {@code fua}); {@code flush} returns only when
 * every write completed before it was called is durable. All methods are safe to call from
 * many threads at once; overlapping requests in flight at the same time are ordered arbitrarily.
 */
public interface Volume extends AutoCloseable {

    /** Minimum I/O granularity in bytes (512). */
    int SECTOR_SIZE = 512;

    String name();

    /** Size in bytes, a multiple of {@link #sectorSize()}. */
    long size();

    default int sectorSize() {
        return SECTOR_SIZE;
    }

    /** The I/O size the volume prefers (4096). */
    default int preferredBlockSize() {
        return 4096;
    }

    boolean isReadOnly();

    /** Reads {@code dst.remaining()} bytes at {@code offset}; never-written and trimmed ranges read as zeros. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /** Writes {@code src.remaining()} bytes at {@code offset}; with {@code fua} the data is durable when this returns. */
    void write(long offset, ByteBuffer src, boolean fua) throws IOException;

    /** Returns when every write completed before this call is durable. */
    void flush() throws IOException;

    /** Discards the range: it reads as zeros afterwards. Metadata only. */
    void trim(long offset, long length) throws IOException;

    /** Makes the range read as zeros. Metadata only; with {@code fua} durable when this returns. */
    void writeZeroes(long offset, long length, boolean fua) throws IOException;

    /**
     * The allocation of {@code [offset, offset+length)} as consecutive runs from {@code offset},
     * at most {@code maxRuns} of them (the runs may cover less than {@code length}, never more).
     * Used for NBD {@code base:allocation}.
     */
    List<AllocationRun> allocation(long offset, long length, int maxRuns) throws IOException;

    /** Flushes and closes; later calls fail with {@link VolumeClosedException}. */
    @Override
    void close() throws IOException;

    /** A run of bytes that is either holding data or a hole that reads as zeros. */
    record AllocationRun(long length, boolean hole) {}
}
