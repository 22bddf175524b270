package dev.strata.engine.objectlog;

import dev.strata.engine.util.Crc32c;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One future data object being filled: the journal records with consecutive sequence numbers
 * that it will hold, their extents in write order, and their data in a direct buffer laid out
 * exactly as the object's data area.
 *
 * <p>Concurrency: records are added only by the writer holding the volume's write-order lock;
 * readers copy out of {@link #data} with absolute reads of regions that were completely
 * written before the extent map pointed at them (the map's lock orders the two). The buffer
 * goes back to the pool when the owner released the batch and the last reader unpinned it.
 */
public final class Batch {
    public static final int SECTOR = 512;

    private final long objectSeq;
    private final long epoch;
    private final int maxExtents;
    private final BufferPool pool;
    private final ByteBuffer data;
    private final AtomicInteger refs = new AtomicInteger(1);
    private final long createdNanos = System.nanoTime();

    private long firstJournalSeq = -1;
    private long lastJournalSeq = -1;
    private int extentCount;
    private long[] lba = new long[64];
    private int[] sectors = new int[64];
    private int[] offsets = new int[64];
    private byte[] kinds = new byte[64];
    private volatile boolean sealed;
    private ObjectHeader header;

    public Batch(long objectSeq, long epoch, BufferPool pool, int maxExtents) {
        this.objectSeq = objectSeq;
        this.epoch = epoch;
        this.pool = pool;
        this.maxExtents = maxExtents;
        this.data = pool.take();
    }

    public long objectSeq() {
        return objectSeq;
    }

    public long epoch() {
        return epoch;
    }

    public long firstJournalSeq() {
        return firstJournalSeq;
    }

    public long lastJournalSeq() {
        return lastJournalSeq;
    }

    public int extentCount() {
        return extentCount;
    }

    public int dataBytes() {
        return data.position();
    }

    public boolean isEmpty() {
        return extentCount == 0;
    }

    public long ageNanos() {
        return System.nanoTime() - createdNanos;
    }

    /** Bytes of data this batch can still take. */
    public int room() {
        return extentCount >= maxExtents ? 0 : data.remaining();
    }

    public boolean hasExtentRoom() {
        return extentCount < maxExtents;
    }

    /**
     * Appends a WRITE record's data; returns the sector offset of the data in the object.
     * The caller checked {@link #room()}.
     */
    public int addWrite(long journalSeq, long lbaStart, ByteBuffer src) {
        int bytes = src.remaining();
        int offsetSectors = data.position() / SECTOR;
        data.put(src);
        addExtent(journalSeq, lbaStart, bytes / SECTOR, offsetSectors, ExtentKind.WRITE);
        return offsetSectors;
    }

    /** Appends a TRIM or ZERO record (no data). */
    public void addNoData(long journalSeq, long lbaStart, int sectorCount, ExtentKind kind) {
        addExtent(journalSeq, lbaStart, sectorCount, 0, kind);
    }

    private void addExtent(long journalSeq, long lbaStart, int sectorCount, int offsetSectors, ExtentKind kind) {
        if (sealed) {
            throw new IllegalStateException("batch " + objectSeq + " is sealed");
        }
        if (firstJournalSeq < 0) {
            firstJournalSeq = journalSeq;
        } else if (journalSeq != lastJournalSeq + 1) {
            throw new IllegalStateException("journal sequence gap in batch " + objectSeq + ": " + lastJournalSeq
                    + " then " + journalSeq);
        }
        lastJournalSeq = journalSeq;
        if (extentCount == lba.length) {
            int n = extentCount * 2;
            lba = Arrays.copyOf(lba, n);
            sectors = Arrays.copyOf(sectors, n);
            offsets = Arrays.copyOf(offsets, n);
            kinds = Arrays.copyOf(kinds, n);
        }
        lba[extentCount] = lbaStart;
        sectors[extentCount] = sectorCount;
        offsets[extentCount] = offsetSectors;
        kinds[extentCount] = (byte) kind.code;
        extentCount++;
    }

    /** Freezes the batch and computes its header (block CRCs included). */
    public ObjectHeader seal() {
        if (!sealed) {
            int dataBytes = data.position();
            int blocks = ObjectHeader.blockCount(dataBytes);
            int[] crcs = new int[blocks];
            for (int i = 0; i < blocks; i++) {
                int from = i * ObjectHeader.DATA_BLOCK_SIZE;
                crcs[i] = Crc32c.of(data, from, Math.min(dataBytes, from + ObjectHeader.DATA_BLOCK_SIZE));
            }
            header = new ObjectHeader(objectSeq, epoch, firstJournalSeq, lastJournalSeq, dataBytes,
                    System.currentTimeMillis(), extentCount, Arrays.copyOf(lba, extentCount),
                    Arrays.copyOf(sectors, extentCount), Arrays.copyOf(offsets, extentCount),
                    Arrays.copyOf(kinds, extentCount), crcs);
            sealed = true;
        }
        return header;
    }

    public boolean isSealed() {
        return sealed;
    }

    public ObjectHeader header() {
        return header;
    }

    /** The whole object, header then data, in a new heap buffer ready to PUT. */
    public ByteBuffer encodeObject() {
        ObjectHeader h = seal();
        ByteBuffer out = ByteBuffer.allocate(h.headerBytes + (int) h.dataBytes);
        h.encode(out);
        out.put(data.duplicate().flip());
        return out.flip();
    }

    /** Copies {@code length} bytes of object data starting at {@code offsetBytes} into {@code dst} at its position. */
    public void read(long offsetBytes, ByteBuffer dst, int length) {
        dst.put(dst.position(), data, (int) offsetBytes, length);
        dst.position(dst.position() + length);
    }

    /** Keeps the buffer alive for a reader; false if the batch was already released. */
    public boolean pin() {
        while (true) {
            int r = refs.get();
            if (r == 0) {
                return false;
            }
            if (refs.compareAndSet(r, r + 1)) {
                return true;
            }
        }
    }

    /** Drops a pin (or, once, the owner's reference); the last one returns the buffer to the pool. */
    public void unpin() {
        if (refs.decrementAndGet() == 0) {
            pool.give(data);
        }
    }
}
