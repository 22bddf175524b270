package dev.strata.engine.journal;

import dev.strata.engine.util.HugePageBuffers;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

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

    /** The huge-page slab this batch and its pair's other one are cut from; null for a batch of its own. */
    private final ByteBuffer slab;
    /** Slabs of closed journals' pairs, by their batches' data bytes; at most {@link #IDLE_SLABS_KEPT} each. */
    private static final ConcurrentHashMap<Integer, ConcurrentLinkedQueue<ByteBuffer>> IDLE_SLABS = new ConcurrentHashMap<>();
    private static final int IDLE_SLABS_KEPT = 4;

    EntryBatch(int maxDataBytes) {
        this(JournalFormat.alignedBuffer(JournalFormat.BLOCK + maxDataBytes), null);
    }

    /** Over {@code entry}: a 4096-aligned direct buffer of a header block and the data area. */
    private EntryBatch(ByteBuffer entry, ByteBuffer slab) {
        this.entry = entry;
        this.slab = slab;
        header = entry.slice(0, JournalFormat.BLOCK);
        data = entry.slice(JournalFormat.BLOCK, entry.capacity() - JournalFormat.BLOCK);
    }

    /**
     * The writer's two batches (one filling, one being written), cut from one slab of huge pages:
     * an entry of several MiB goes to the disk with O_DIRECT in one segment per huge page instead
     * of one per 4 KiB page (docs/journal.md, "Entry buffers"). The slab of a closed journal is
     * taken again if there is one ({@link #recycle}): a fresh huge page costs milliseconds to
     * fault in on a VM, and a journal is opened per volume attach.
     */
    static EntryBatch[] pairForWriting(int maxDataBytes) {
        int entryBytes = JournalFormat.BLOCK + maxDataBytes;
        long slabBytes = (2L * entryBytes + HugePageBuffers.HUGE_PAGE - 1) & -(long) HugePageBuffers.HUGE_PAGE;
        if (slabBytes > Integer.MAX_VALUE) {
            return new EntryBatch[] {new EntryBatch(maxDataBytes), new EntryBatch(maxDataBytes)};
        }
        // Not zeroed: what reaches the disk is only this journal's (EntryHeader.encode clears the
        // header block and the padding after the data of every entry it writes).
        ByteBuffer slab = idleSlabs(maxDataBytes).poll();
        if (slab == null) {
            slab = HugePageBuffers.slab((int) slabBytes);
        }
        return new EntryBatch[] {new EntryBatch(slab.slice(0, entryBytes), slab), new EntryBatch(slab.slice(entryBytes, entryBytes), slab)};
    }

    /**
     * Keeps the slab of a pair made by {@link #pairForWriting} for the next journal. Only once
     * nothing can touch either batch again: the writer thread has exited and appends are refused.
     */
    static void recycle(EntryBatch[] pair) {
        ByteBuffer slab = pair[0].slab;
        if (slab == null || slab != pair[1].slab) {
            return;
        }
        ConcurrentLinkedQueue<ByteBuffer> idle = idleSlabs(pair[0].maxDataBytes());
        if (idle.size() < IDLE_SLABS_KEPT) {
            idle.offer(slab);
        }
    }

    private static ConcurrentLinkedQueue<ByteBuffer> idleSlabs(int maxDataBytes) {
        return IDLE_SLABS.computeIfAbsent(maxDataBytes, k -> new ConcurrentLinkedQueue<>());
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
