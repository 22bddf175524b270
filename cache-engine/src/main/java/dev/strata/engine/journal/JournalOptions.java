package dev.strata.engine.journal;

import dev.strata.engine.pacing.PacingPolicy;
import dev.strata.engine.util.DirectIoMode;
import java.time.Duration;
import java.util.Objects;

/**
 * Configuration of a journal. Build with {@link #builder()}; {@link #defaults()} is what
 * production uses.
 *
 * @param segmentSize       bytes per segment file, a multiple of 4096, large enough for the
 *                          segment header plus one largest entry
 * @param maxSegments       the most segment files the journal may have (capacity =
 *                          maxSegments × segmentSize); at least 2 so one can be recycled while
 *                          another is written
 * @param syncInterval      the longest an appended record stays un-forced when nobody flushes:
 *                          the loss window of acknowledged-but-unflushed writes
 * @param directIo          whether to open segments with O_DIRECT
 * @param maxEntryDataBytes the most data bytes in one entry (one group commit); a multiple of
 *                          4096; larger writes are split into several records
 * @param writebackPacing   how segments written through the page cache (not O_DIRECT) are paced
 *                          (docs/writeback-pacing.md); {@link PacingPolicy#disabled()} turns it
 *                          off; ignored for segments opened with O_DIRECT
 */
public record JournalOptions(
        long segmentSize,
        int maxSegments,
        Duration syncInterval,
        DirectIoMode directIo,
        int maxEntryDataBytes,
        PacingPolicy writebackPacing) {

    public static final long DEFAULT_SEGMENT_SIZE = 64L << 20;
    public static final int DEFAULT_MAX_SEGMENTS = 16;
    public static final Duration DEFAULT_SYNC_INTERVAL = Duration.ofSeconds(1);
    public static final int DEFAULT_MAX_ENTRY_DATA_BYTES = 8 << 20;

    public JournalOptions {
        Objects.requireNonNull(syncInterval, "syncInterval");
        Objects.requireNonNull(directIo, "directIo");
        Objects.requireNonNull(writebackPacing, "writebackPacing");
        if (maxEntryDataBytes < JournalFormat.BLOCK || maxEntryDataBytes % JournalFormat.BLOCK != 0) {
            throw new IllegalArgumentException("maxEntryDataBytes must be a positive multiple of 4096, got " + maxEntryDataBytes);
        }
        if (segmentSize % JournalFormat.BLOCK != 0
                || segmentSize < 2L * JournalFormat.BLOCK + maxEntryDataBytes) {
            throw new IllegalArgumentException("segmentSize must be a multiple of 4096 holding the segment header and one entry of "
                    + maxEntryDataBytes + " data bytes (>= " + (2L * JournalFormat.BLOCK + maxEntryDataBytes) + "), got " + segmentSize);
        }
        if (maxSegments < 2) {
            throw new IllegalArgumentException("maxSegments must be >= 2, got " + maxSegments);
        }
        if (syncInterval.isNegative() || syncInterval.isZero()) {
            throw new IllegalArgumentException("syncInterval must be positive, got " + syncInterval);
        }
    }

    public static JournalOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The most bytes the journal's segment files occupy. */
    public long capacityBytes() {
        return segmentSize * maxSegments;
    }

    /** Mutable builder starting from the defaults. */
    public static final class Builder {
        private long segmentSize = DEFAULT_SEGMENT_SIZE;
        private int maxSegments = DEFAULT_MAX_SEGMENTS;
        private Duration syncInterval = DEFAULT_SYNC_INTERVAL;
        private DirectIoMode directIo = DirectIoMode.AUTO;
        private int maxEntryDataBytes = DEFAULT_MAX_ENTRY_DATA_BYTES;
        private PacingPolicy writebackPacing = PacingPolicy.defaults();

        private Builder() {
        }

        public Builder segmentSize(long bytes) {
            this.segmentSize = bytes;
            return this;
        }

        public Builder maxSegments(int count) {
            this.maxSegments = count;
            return this;
        }

        public Builder syncInterval(Duration interval) {
            this.syncInterval = interval;
            return this;
        }

        public Builder directIo(DirectIoMode mode) {
            this.directIo = mode;
            return this;
        }

        public Builder maxEntryDataBytes(int bytes) {
            this.maxEntryDataBytes = bytes;
            return this;
        }

        /** Pacing of buffered segment writes; on by default, {@link PacingPolicy#disabled()} for off. */
        public Builder writebackPacing(PacingPolicy policy) {
            this.writebackPacing = policy;
            return this;
        }

        public JournalOptions build() {
            return new JournalOptions(segmentSize, maxSegments, syncInterval, directIo, maxEntryDataBytes, writebackPacing);
        }
    }
}
