package dev.strata.engine.journal;

/**
 * What a journal record does to its LBA range. Only {@link #WRITE} carries data. {@link #BYPASS}
 * exists from entry format version 2 on (docs/journal.md).
 */
public enum RecordKind {
    /** New data for the range; the record carries {@code sectors × 512} bytes. */
    WRITE((byte) 1),
    /** The range was discarded (NBD TRIM); no data. */
    TRIM((byte) 2),
    /** The range reads as zeros (NBD WRITE_ZEROES); no data. */
    ZERO((byte) 3),
    /**
     * A large write whose data skipped the journal (the large-write bypass, docs/write-paths.md):
     * the record only keeps its place in the record order; the data is only in the object that
     * holds the record, so it is there once that object is uploaded and nowhere otherwise. No data.
     */
    BYPASS((byte) 4);

    private final byte code;

    RecordKind(byte code) {
        this.code = code;
    }

    /** The byte stored in an entry header. */
    public byte code() {
        return code;
    }

    /** Whether records of this kind carry data in the entry. */
    public boolean hasData() {
        return this == WRITE;
    }

    /** The kind for a stored code, or null if the code is not one (corrupt header). */
    public static RecordKind fromCode(byte code) {
        return switch (code) {
            case 1 -> WRITE;
            case 2 -> TRIM;
            case 3 -> ZERO;
            case 4 -> BYPASS;
            default -> null;
        };
    }
}
