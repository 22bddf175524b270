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

    /** Final for writer batches; a GC batch gets its number when it is committed ({@link #numberMoves}). */
    private long objectSeq;
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
    /** Non-null for a garbage collection batch: per extent, the packed location its data came from. */
    private long[] sources;
    private volatile boolean sealed;
    private ObjectHeader header;

    public Batch(long objectSeq, long epoch, BufferPool pool, int maxExtents) {
        this.objectSeq = objectSeq;
        this.epoch = epoch;
        this.pool = pool;
        this.maxExtents = maxExtents;
        this.data = pool.take();
    }

    /**
     * A garbage collection batch: MOVE extents only, no journal records (its object is format
     * version 2, docs/gc.md). Its sequence number is given when it is committed to the volume's
     * log, after its data was gathered.
     */
    public static Batch forMoves(long objectSeq, long epoch, BufferPool pool, int maxExtents) {
        Batch b = new Batch(objectSeq, epoch, pool, maxExtents);
        b.sources = new long[64];
        return b;
    }

    /** Gives a GC batch its place in the log (under the volume's batch lock, before it is sealed). */
    public void numberMoves(long seq) {
        if (sources == null || sealed) {
            throw new IllegalStateException("only an unsealed garbage collection batch is numbered late");
        }
        objectSeq = seq;
    }

    /** True for a garbage collection batch (no journal records: nothing to release when it is uploaded). */
    public boolean isMoves() {
        return sources != null;
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

    /** True while the batch holds neither an extent nor a journal record (a lost bypass record has no extent). */
    public boolean isEmpty() {
        return extentCount == 0 && firstJournalSeq < 0;
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

    /**
     * Appends moved data that lived at {@code sourceLocation}; returns its sector offset in this
     * object. Only in a {@link #forMoves} batch; the caller checked {@link #room()}.
     */
    public int addMove(long lbaStart, ByteBuffer src, long sourceLocation) {
        if (sources == null) {
            throw new IllegalStateException("batch " + objectSeq + " is not a garbage collection batch");
        }
        if (sealed) {
            throw new IllegalStateException("batch " + objectSeq + " is sealed");
        }
        int bytes = src.remaining();
        int offsetSectors = data.position() / SECTOR;
        data.put(src);
        grow();
        sources[extentCount] = sourceLocation;
        lba[extentCount] = lbaStart;
        sectors[extentCount] = bytes / SECTOR;
        offsets[extentCount] = offsetSectors;
        kinds[extentCount] = (byte) ExtentKind.MOVE.code;
        extentCount++;
        return offsetSectors;
    }

    /** The extent arrays of a batch being filled (read by the volume when it commits a GC batch). */
    public long extentLba(int i) {
        return lba[i];
    }

    public int extentSectors(int i) {
        return sectors[i];
    }

    public int extentOffsetSectors(int i) {
        return offsets[i];
    }

    public long extentSource(int i) {
        return sources[i];
    }

    private void grow() {
        if (extentCount == lba.length) {
            int n = extentCount * 2;
            lba = Arrays.copyOf(lba, n);
            sectors = Arrays.copyOf(sectors, n);
            offsets = Arrays.copyOf(offsets, n);
            kinds = Arrays.copyOf(kinds, n);
            if (sources != null) {
                sources = Arrays.copyOf(sources, n);
            }
        }
    }

    /** Appends a TRIM or ZERO record (no data). */
    public void addNoData(long journalSeq, long lbaStart, int sectorCount, ExtentKind kind) {
        addExtent(journalSeq, lbaStart, sectorCount, 0, kind);
    }

    /**
     * Takes journal record {@code journalSeq} without an extent: a BYPASS record found by journal
     * replay, whose data was only in an object that never reached the bucket (docs/write-paths.md,
     * "Large-write bypass"). The object still holds the record, so objects keep holding gap-free
     * runs of journal records, and the range keeps what it held before that write.
     */
    public void addLostRecord(long journalSeq) {
        takeJournalSeq(journalSeq);
    }

    private void takeJournalSeq(long journalSeq) {
        if (sealed) {
            throw new IllegalStateException("batch " + objectSeq + " is sealed");
        }
        if (sources != null) {
            throw new IllegalStateException("batch " + objectSeq + " holds moved data, not journal records");
        }
        if (firstJournalSeq < 0) {
            firstJournalSeq = journalSeq;
        } else if (journalSeq != lastJournalSeq + 1) {
            throw new IllegalStateException("journal sequence gap in batch " + objectSeq + ": " + lastJournalSeq
                    + " then " + journalSeq);
        }
        lastJournalSeq = journalSeq;
    }

    private void addExtent(long journalSeq, long lbaStart, int sectorCount, int offsetSectors, ExtentKind kind) {
        takeJournalSeq(journalSeq);
        grow();
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
            // A GC object holds no journal records: its journal range is empty (0, 0).
            header = new ObjectHeader(objectSeq, epoch, isMoves() ? 0 : firstJournalSeq, isMoves() ? 0 : lastJournalSeq,
                    dataBytes, System.currentTimeMillis(), extentCount, Arrays.copyOf(lba, extentCount),
                    Arrays.copyOf(sectors, extentCount), Arrays.copyOf(offsets, extentCount),
                    Arrays.copyOf(kinds, extentCount), crcs, isMoves() ? Arrays.copyOf(sources, extentCount) : null);
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
        return encodeObject(ByteBuffer.allocate(encodedBytes()));
    }

    /** Bytes of the whole object, header then data (seals the batch). */
    public int encodedBytes() {
        ObjectHeader h = seal();
        return h.headerBytes + (int) h.dataBytes;
    }

    /**
     * The whole object, header then data, written into {@code out} from 0 (which must hold
     * {@link #encodedBytes()}); returns {@code out} flipped, ready to PUT.
     */
    public ByteBuffer encodeObject(ByteBuffer out) {
        ObjectHeader h = seal();
        out.clear();
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
