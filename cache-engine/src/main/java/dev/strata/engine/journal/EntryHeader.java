package dev.strata.engine.journal;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The codec of an entry's 4096-byte header block and of the entry CRC. Layout in
 * docs/journal.md; this class is the only place that knows it.
 */
public final class EntryHeader {
    static final int MAGIC = 0x534A4E45; // "SJNE"
    /** Entries without a BYPASS record are written as version 1, so a journal that never bypassed stays readable by older code. */
    static final short VERSION = 1;
    /** Version 2: like 1, and records may be of kind 4 (BYPASS). */
    static final short VERSION_BYPASS = 2;
    static final int RECORDS_OFFSET = 40;
    static final int RECORD_BYTES = 24;
    /** Records that fit in one header block. */
    public static final int MAX_RECORDS = (JournalFormat.BLOCK - RECORDS_OFFSET) / RECORD_BYTES;
    private static final int CRC_OFFSET = 32;

    private EntryHeader() {
    }

    /**
     * Encodes {@code batch}'s header block for {@code segmentId}, zeroes the padding after its
     * data up to the next 4096 boundary, and stores the CRC. Writer thread only ({@code crc} is its own).
     */
    static void encode(EntryBatch batch, long segmentId, CRC32C crc) {
        ByteBuffer h = batch.header;
        for (int i = 0; i < JournalFormat.BLOCK; i += 8) {
            h.putLong(i, 0L);
        }
        h.putInt(0, MAGIC);
        short version = VERSION;
        for (int i = 0; i < batch.count; i++) {
            if (batch.kinds[i] == RecordKind.BYPASS.code()) {
                version = VERSION_BYPASS;
                break;
            }
        }
        h.putShort(4, version);
        h.putLong(8, segmentId);
        h.putLong(16, batch.firstSeq);
        h.putInt(24, batch.count);
        h.putInt(28, batch.dataBytes);
        for (int i = 0; i < batch.count; i++) {
            int at = RECORDS_OFFSET + i * RECORD_BYTES;
            h.putLong(at, batch.epochs[i]);
            h.putLong(at + 8, batch.lbas[i]);
            h.putInt(at + 16, batch.sectors[i]);
            h.put(at + 20, batch.kinds[i]);
        }
        int padded = (int) JournalFormat.roundUpToBlock(batch.dataBytes);
        for (int i = batch.dataBytes; i < padded; i++) {
            batch.data.put(i, (byte) 0);
        }
        h.putInt(CRC_OFFSET, crc(crc, h, batch.data, batch.dataBytes));
    }

    /**
     * Decodes and checks the fields of a header block into {@code into}'s metadata (everything
     * except the CRC, which needs the data: see {@link #verifyCrc}).
     *
     * @throws CorruptEntryException with EMPTY_BLOCK, BAD_MAGIC, BAD_VERSION or BAD_HEADER
     */
    static void decode(ByteBuffer h, EntryBatch into) throws CorruptEntryException {
        int magic = h.getInt(0);
        if (magic != MAGIC) {
            if (magic == 0 && JournalFormat.allZero(h)) {
                throw new CorruptEntryException(StopReason.EMPTY_BLOCK, "header block is all zeros");
            }
            throw new CorruptEntryException(StopReason.BAD_MAGIC, String.format("bad entry magic 0x%08x", magic));
        }
        short version = h.getShort(4);
        if (version != VERSION && version != VERSION_BYPASS) {
            throw new CorruptEntryException(StopReason.BAD_VERSION, "unsupported entry format version " + version);
        }
        int count = h.getInt(24);
        int dataBytes = h.getInt(28);
        if (count < 1 || count > MAX_RECORDS) {
            throw new CorruptEntryException(StopReason.BAD_HEADER, "record count " + count + " out of 1.." + MAX_RECORDS);
        }
        long firstSeq = h.getLong(16);
        if (firstSeq < 1 || firstSeq > Long.MAX_VALUE - count) {
            throw new CorruptEntryException(StopReason.BAD_HEADER, "first sequence number " + firstSeq + " out of range");
        }
        long sum = 0;
        for (int i = 0; i < count; i++) {
            int at = RECORDS_OFFSET + i * RECORD_BYTES;
            int sectors = h.getInt(at + 16);
            RecordKind kind = RecordKind.fromCode(h.get(at + 20));
            if (kind == RecordKind.BYPASS && version == VERSION) {
                kind = null; // kind 4 exists from version 2 on
            }
            if (sectors <= 0 || kind == null) {
                throw new CorruptEntryException(StopReason.BAD_HEADER, "record " + i + ": sectors " + sectors + ", kind code " + h.get(at + 20));
            }
            if (kind.hasData()) {
                sum += (long) sectors * JournalFormat.SECTOR;
            }
            into.epochs[i] = h.getLong(at);
            into.lbas[i] = h.getLong(at + 8);
            into.sectors[i] = sectors;
            into.kinds[i] = kind.code();
        }
        if (dataBytes < 0 || sum != dataBytes) {
            throw new CorruptEntryException(StopReason.BAD_HEADER, "data bytes " + dataBytes + " but records carry " + sum);
        }
        into.count = count;
        into.dataBytes = dataBytes;
        into.firstSeq = firstSeq;
    }

    /** The segment id stored in a header block. */
    static long segmentId(ByteBuffer h) {
        return h.getLong(8);
    }

    /** @throws CorruptEntryException CRC_MISMATCH if header + the first {@code dataBytes} of {@code data} do not match the stored CRC */
    static void verifyCrc(ByteBuffer h, ByteBuffer data, int dataBytes, CRC32C crc) throws CorruptEntryException {
        int stored = h.getInt(CRC_OFFSET);
        int actual = crc(crc, h, data, dataBytes);
        if (stored != actual) {
            throw new CorruptEntryException(StopReason.CRC_MISMATCH,
                    String.format("entry CRC32C mismatch (stored 0x%08x, computed 0x%08x)", stored, actual));
        }
    }

    /** Size on disk of an entry with {@code dataBytes} of data. */
    public static long entryBytes(int dataBytes) {
        return JournalFormat.BLOCK + JournalFormat.roundUpToBlock(dataBytes);
    }

    private static int crc(CRC32C crc, ByteBuffer h, ByteBuffer data, int dataBytes) {
        crc.reset();
        crc.update(h.slice(0, CRC_OFFSET));
        crc.update(h.slice(CRC_OFFSET + 4, JournalFormat.BLOCK - CRC_OFFSET - 4));
        crc.update(data.slice(0, dataBytes));
        return (int) crc.getValue();
    }
}
