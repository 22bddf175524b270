package dev.strata.engine.journal;

import java.nio.ByteBuffer;

/**
 * One entry's worth of records: a 4096-aligned direct buffer (header block, then data) and the
 * records' metadata in primitive arrays. Used as a staging buffer by {@link Journal} (filled by
 * appenders under the journal lock, then owned by the writer thread while it is written) and as
 * the decode target of {@link JournalReplayer}. Allocated once and reused: no per-record garbage.
 */
final class EntryBatch {
    /** Header block followed by the data area; the whole entry is written from here. */
    final ByteBuffer entry;
    /** Bytes 0..4095 of {@link #entry}. */
    final ByteBuffer header;
    /** Bytes 4096.. of {@link #entry}. */
    final ByteBuffer data;
    final long[] epochs = new long[EntryHeader.MAX_RECORDS];
    final long[] lbas = new long[EntryHeader.MAX_RECORDS];
    final int[] sectors = new int[EntryHeader.MAX_RECORDS];
    final byte[] kinds = new byte[EntryHeader.MAX_RECORDS];
    int count;
    int dataBytes;
    long firstSeq;
    /** Set by an appender that could not fit its record: the writer should take this batch now. */
    boolean full;

    EntryBatch(int maxDataBytes) {
        entry = JournalFormat.alignedBuffer(JournalFormat.BLOCK + maxDataBytes);
        header = entry.slice(0, JournalFormat.BLOCK);
        data = entry.slice(JournalFormat.BLOCK, maxDataBytes);
    }

    int maxDataBytes() {
        return data.capacity();
    }

    boolean fits(int recordDataBytes) {
        return count < EntryHeader.MAX_RECORDS && dataBytes + recordDataBytes <= data.capacity();
    }

    /** Appends one record; the caller checked {@link #fits}. {@code src} is read without moving its position. */
    void add(long seq, long epoch, long lba, int sectorCount, RecordKind kind, ByteBuffer src, int srcOffset, int length) {
        if (count == 0) {
            firstSeq = seq;
        }
        epochs[count] = epoch;
        lbas[count] = lba;
        sectors[count] = sectorCount;
        kinds[count] = kind.code();
        if (length > 0) {
            data.put(dataBytes, src, srcOffset, length);
            dataBytes += length;
        }
        count++;
    }

    long lastSeq() {
        return firstSeq + count - 1;
    }

    /** Bytes the entry occupies on disk. */
    int entryBytes() {
        return (int) (JournalFormat.BLOCK + JournalFormat.roundUpToBlock(dataBytes));
    }

    void reset() {
        count = 0;
        dataBytes = 0;
        firstSeq = 0;
        full = false;
    }
}
