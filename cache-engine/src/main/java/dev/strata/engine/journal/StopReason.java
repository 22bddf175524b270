package dev.strata.engine.journal;

/** Why a replay stopped reading a segment, or the journal as a whole. See docs/journal.md. */
public enum StopReason {
    /** Nothing to read: no segment of the volume in the directory. */
    NO_SEGMENTS(false),
    /** The segment file ends exactly where the next entry would start. */
    END_OF_FILE(false),
    /** The next header block is all zeros: never written since the segment was created. */
    EMPTY_BLOCK(false),
    /** A valid entry from an earlier life of a recycled file (it names another segment id). */
    WRONG_SEGMENT(false),
    /** A valid entry whose first sequence number does not continue the previous record. */
    SEQUENCE_GAP(false),
    /** The entry runs past the end of the file (a crash during the write, or truncation). */
    TORN(true),
    /** The header block does not start with the entry magic. */
    BAD_MAGIC(true),
    /** An entry format version this code does not know. */
    BAD_VERSION(true),
    /** Header fields out of range or inconsistent (count, lengths, kinds). */
    BAD_HEADER(true),
    /** The CRC32C over header and data does not match. */
    CRC_MISMATCH(true),
    /** The segment's own header is unreadable or invalid; the segment was skipped. */
    BAD_SEGMENT_HEADER(true),
    /** Reading the file failed. */
    IO_ERROR(true);

    private final boolean suspicious;

    StopReason(boolean suspicious) {
        this.suspicious = suspicious;
    }

    /**
     * Whether this looks like damage rather than the ordinary end of written data. Only a hint:
     * a crash mid-write legitimately leaves a TORN or CRC_MISMATCH tail in the last segment.
     */
    public boolean suspicious() {
        return suspicious;
    }
}
