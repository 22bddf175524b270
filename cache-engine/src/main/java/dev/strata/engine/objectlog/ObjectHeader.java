package dev.strata.engine.objectlog;

import dev.strata.engine.util.Crc32c;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The header of a data object: which LBA ranges the object holds, in write order, and the
 * CRC32C of every data block. Format in docs/format.md, "Data objects".
 *
 * <p>Extents are kept as parallel primitive arrays (no object per extent): an 8 MiB object of
 * 512-byte writes has 16 384 of them.
 */
public final class ObjectHeader {
    public static final long MAGIC = 0x5354524154414f42L; // "STRATAOB"
    /** Objects the writer makes from journal records: WRITE, TRIM and ZERO extents only. */
    public static final int VERSION = 1;
    /** Objects garbage collection makes: MOVE extents, each with its source location (docs/gc.md). */
    public static final int VERSION_MOVES = 2;
    private static final int FLAGS_OFFSET = 76;
    private static final int FLAG_SOURCES = 1;
    public static final int ALIGNMENT = 4096;
    public static final int FIXED_BYTES = 96;
    public static final int EXTENT_BYTES = 24;
    public static final int DATA_BLOCK_SIZE = 64 * 1024;
    private static final int CRC_OFFSET = 88;

    public final long objectSeq;
    public final long epoch;
    public final long firstJournalSeq;
    public final long lastJournalSeq;
    public final long dataBytes;
    public final long createdMillis;
    public final int extentCount;
    public final long[] lba;
    public final int[] sectors;
    public final int[] dataOffsetSectors;
    public final byte[] kind;
    public final int[] blockCrcs;
    /** Per extent, where a MOVE extent's data came from (a packed location); null in a version 1 object. */
    public final long[] sourceLocation;
    public final int headerBytes;

    public ObjectHeader(long objectSeq, long epoch, long firstJournalSeq, long lastJournalSeq, long dataBytes,
            long createdMillis, int extentCount, long[] lba, int[] sectors, int[] dataOffsetSectors, byte[] kind,
            int[] blockCrcs) {
        this(objectSeq, epoch, firstJournalSeq, lastJournalSeq, dataBytes, createdMillis, extentCount, lba, sectors,
                dataOffsetSectors, kind, blockCrcs, null);
    }

    /** With {@code sourceLocation} non-null: a version 2 object of MOVE extents made by garbage collection. */
    public ObjectHeader(long objectSeq, long epoch, long firstJournalSeq, long lastJournalSeq, long dataBytes,
            long createdMillis, int extentCount, long[] lba, int[] sectors, int[] dataOffsetSectors, byte[] kind,
            int[] blockCrcs, long[] sourceLocation) {
        this.objectSeq = objectSeq;
        this.epoch = epoch;
        this.firstJournalSeq = firstJournalSeq;
        this.lastJournalSeq = lastJournalSeq;
        this.dataBytes = dataBytes;
        this.createdMillis = createdMillis;
        this.extentCount = extentCount;
        this.lba = lba;
        this.sectors = sectors;
        this.dataOffsetSectors = dataOffsetSectors;
        this.kind = kind;
        this.blockCrcs = blockCrcs;
        this.sourceLocation = sourceLocation;
        this.headerBytes = headerBytesFor(extentCount, blockCrcs.length, sourceLocation != null);
    }

    /** A garbage collection object: holds moved data, no journal records (docs/gc.md). */
    public boolean isMoves() {
        return sourceLocation != null;
    }

    public static int blockCount(long dataBytes) {
        return (int) ((dataBytes + DATA_BLOCK_SIZE - 1) / DATA_BLOCK_SIZE);
    }

    public static int headerBytesFor(int extents, int blocks) {
        return headerBytesFor(extents, blocks, false);
    }

    public static int headerBytesFor(int extents, int blocks, boolean withSources) {
        long raw = FIXED_BYTES + (long) extents * EXTENT_BYTES + 4L * blocks + (withSources ? 8L * extents : 0);
        return (int) ((raw + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
    }

    public ExtentKind kindOf(int i) {
        return ExtentKind.ofCode(kind[i]);
    }

    /** Writes the header into {@code out} at its position (advancing it by {@link #headerBytes}). */
    public void encode(ByteBuffer out) {
        ByteBuffer b = out.slice(out.position(), headerBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < headerBytes; i++) {
            b.put(i, (byte) 0);
        }
        b.putLong(0, MAGIC);
        b.putInt(8, isMoves() ? VERSION_MOVES : VERSION);
        b.putInt(12, headerBytes);
        b.putLong(16, objectSeq);
        b.putLong(24, epoch);
        b.putLong(32, firstJournalSeq);
        b.putLong(40, lastJournalSeq);
        b.putLong(48, dataBytes);
        b.putLong(56, createdMillis);
        b.putInt(64, extentCount);
        b.putInt(68, blockCrcs.length);
        b.putInt(72, DATA_BLOCK_SIZE);
        b.putInt(FLAGS_OFFSET, isMoves() ? FLAG_SOURCES : 0);
        b.putInt(CRC_OFFSET, 0);
        int p = FIXED_BYTES;
        for (int i = 0; i < extentCount; i++) {
            b.putLong(p, lba[i]);
            b.putInt(p + 8, sectors[i]);
            b.putInt(p + 12, dataOffsetSectors[i]);
            b.put(p + 16, kind[i]);
            p += EXTENT_BYTES;
        }
        for (int crc : blockCrcs) {
            b.putInt(p, crc);
            p += 4;
        }
        if (isMoves()) {
            for (int i = 0; i < extentCount; i++) {
                b.putLong(p, sourceLocation[i]);
                p += 8;
            }
        }
        b.putInt(CRC_OFFSET, Crc32c.of(b, 0, headerBytes));
        out.position(out.position() + headerBytes);
    }

    /** Header length announced by the first bytes of an object, after checking magic and version. */
    public static int peekHeaderBytes(ByteBuffer first, String where) throws IOException {
        ByteBuffer b = first.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < FIXED_BYTES) {
            throw new IOException(where + ": object shorter than its fixed header (" + b.remaining() + " bytes)");
        }
        int p = b.position();
        if (b.getLong(p) != MAGIC) {
            throw new IOException(where + ": bad magic, not a Strata data object");
        }
        int version = b.getInt(p + 8);
        if (version != VERSION && version != VERSION_MOVES) {
            throw new IOException(where + ": unsupported object format version " + version);
        }
        int len = b.getInt(p + 12);
        if (len < ALIGNMENT || len % ALIGNMENT != 0 || len > 64 * 1024 * 1024) {
            throw new IOException(where + ": implausible header length " + len);
        }
        return len;
    }

    /** Decodes and verifies a whole header ({@code buf} from its position holds at least the header bytes). */
    public static ObjectHeader decode(ByteBuffer buf, String where) throws IOException {
        int len = peekHeaderBytes(buf, where);
        if (buf.remaining() < len) {
            throw new IOException(where + ": header truncated (" + buf.remaining() + " of " + len + " bytes)");
        }
        ByteBuffer b = buf.slice(buf.position(), len).order(ByteOrder.LITTLE_ENDIAN);
        int stored = b.getInt(CRC_OFFSET);
        ByteBuffer copy = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        copy.put(b.duplicate()).flip();
        copy.putInt(CRC_OFFSET, 0);
        int actual = Crc32c.of(copy, 0, len);
        if (stored != actual) {
            throw new IOException(String.format("%s: header CRC32C mismatch (stored %08x, computed %08x)", where, stored, actual));
        }
        int version = b.getInt(8);
        int flags = b.getInt(FLAGS_OFFSET);
        boolean sources = version == VERSION_MOVES;
        if (flags != (sources ? FLAG_SOURCES : 0)) {
            throw new IOException(where + ": flags " + flags + " do not fit format version " + version);
        }
        long dataBytes = b.getLong(48);
        int extents = b.getInt(64);
        int blocks = b.getInt(68);
        int blockSize = b.getInt(72);
        if (blockSize != DATA_BLOCK_SIZE || extents < 0 || blocks != blockCount(dataBytes) || dataBytes % 512 != 0
                || headerBytesFor(extents, blocks, sources) != len) {
            throw new IOException(where + ": inconsistent header (extents " + extents + ", blocks " + blocks
                    + ", block size " + blockSize + ", data bytes " + dataBytes + ", header bytes " + len + ")");
        }
        long[] lba = new long[extents];
        int[] sectors = new int[extents];
        int[] offs = new int[extents];
        byte[] kind = new byte[extents];
        int p = FIXED_BYTES;
        long dataSectors = dataBytes / 512;
        for (int i = 0; i < extents; i++) {
            lba[i] = b.getLong(p);
            sectors[i] = b.getInt(p + 8);
            offs[i] = b.getInt(p + 12);
            kind[i] = b.get(p + 16);
            ExtentKind k = ExtentKind.ofCode(kind[i]);
            if (k == null || sectors[i] <= 0 || lba[i] < 0 || (k == ExtentKind.MOVE) != sources
                    || (k.hasData() && (offs[i] < 0 || (long) offs[i] + sectors[i] > dataSectors))) {
                throw new IOException(where + ": invalid extent " + i + " (lba " + lba[i] + ", sectors " + sectors[i]
                        + ", offset " + offs[i] + ", kind " + kind[i] + ")");
            }
            p += EXTENT_BYTES;
        }
        int[] crcs = new int[blocks];
        for (int i = 0; i < blocks; i++) {
            crcs[i] = b.getInt(p);
            p += 4;
        }
        long[] src = null;
        if (sources) {
            src = new long[extents];
            for (int i = 0; i < extents; i++) {
                src[i] = b.getLong(p);
                if (src[i] < 0) {
                    throw new IOException(where + ": invalid source location of extent " + i);
                }
                p += 8;
            }
        }
        return new ObjectHeader(b.getLong(16), b.getLong(24), b.getLong(32), b.getLong(40), dataBytes, b.getLong(56),
                extents, lba, sectors, offs, kind, crcs, src);
    }
}
