package dev.strata.engine.objectlog;

import dev.strata.engine.extentmap.ExtentMap;
import dev.strata.engine.util.Crc32c;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * A map checkpoint: the volume's extent map and object table after applying every object up to
 * and including {@code objectSeq}. Opening a volume = the newest valid checkpoint + headers of
 * the objects after it. Format in docs/format.md, "Map checkpoints".
 */
public final class MapCheckpoint {
    public static final long MAGIC = 0x5354524154414350L; // "STRATACP"
    public static final int VERSION = 1;

    /** Every object up to this one is fully applied; replay continues after it. */
    public final long objectSeq;
    /** The highest object the map may point into (the batch that was open when it was taken); its key's number. */
    public final long referencedSeq;
    public final long epoch;
    public final long lastJournalSeq;
    public final ObjectTable objects;
    public final ExtentMap map;

    public MapCheckpoint(long objectSeq, long referencedSeq, long epoch, long lastJournalSeq, ObjectTable objects,
            ExtentMap map) {
        this.objectSeq = objectSeq;
        this.referencedSeq = referencedSeq;
        this.epoch = epoch;
        this.lastJournalSeq = lastJournalSeq;
        this.objects = objects;
        this.map = map;
    }

    /**
     * Serializes the given state; the caller holds whatever lock keeps {@code map} and
     * {@code objects} still (the volume's batch and map locks: its readers and writers wait for
     * this). Only objects up to {@code objectSeq} go into the table: the ones
     * after it are replayed from their headers on load. Written straight into an array of the exact
     * size: a checkpoint of millions of extents is tens of MB, and a stream of single longs through
     * {@code DataOutputStream} took ~6 times as long (docs/benchmarks.md).
     */
    public static byte[] encode(String volume, long objectSeq, long referencedSeq, long epoch, long lastJournalSeq, ObjectTable objects,
            ExtentMap map) {
        byte[] head;
        int tableSize = (int) objects.countThrough(objectSeq);
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeLong(MAGIC);
            out.writeInt(VERSION);
            out.writeUTF(volume);
            out.writeLong(objectSeq);
            out.writeLong(referencedSeq);
            out.writeLong(epoch);
            out.writeLong(lastJournalSeq);
            out.writeLong(System.currentTimeMillis());
            out.writeInt(tableSize);
            out.flush();
            head = bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long size = head.length + TABLE_ENTRY_BYTES * (long) tableSize + map.encodedBytes() + 4;
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException(volume + ": a checkpoint of " + size + " bytes does not fit in one array");
        }
        ByteBuffer b = ByteBuffer.allocate((int) size); // big-endian, as DataOutput writes
        b.put(head);
        int[] written = {0};
        objects.forEach(e -> {
            if (e.seq <= objectSeq && written[0]++ < tableSize) { // more than counted: a table that changed, refused below
                b.putLong(e.seq).putLong(e.epoch).putInt(e.headerBytes).putLong(e.dataBytes);
            }
        });
        if (written[0] != tableSize) {
            throw new IllegalStateException("object table changed while checkpointing");
        }
        map.writeTo(b);
        int crc = Crc32c.of(b.array(), 0, b.position());
        b.putInt(crc);
        if (b.hasRemaining()) {
            throw new IllegalStateException("checkpoint encoded " + b.position() + " of " + size + " bytes");
        }
        return b.array();
    }

    /** Bytes of one object table entry: seq, epoch (8 each), header bytes (4), data bytes (8). */
    private static final int TABLE_ENTRY_BYTES = 28;

    public static MapCheckpoint decode(byte[] all, String expectedVolume, String where) throws IOException {
        if (all.length < 16) {
            throw new IOException(where + ": checkpoint truncated (" + all.length + " bytes)");
        }
        int n = all.length - 4;
        int stored = ((all[n] & 0xff) << 24) | ((all[n + 1] & 0xff) << 16) | ((all[n + 2] & 0xff) << 8) | (all[n + 3] & 0xff);
        int actual = Crc32c.of(all, 0, n);
        if (stored != actual) {
            throw new IOException(String.format("%s: checkpoint CRC32C mismatch (stored %08x, computed %08x)", where, stored, actual));
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(all, 0, n));
        if (in.readLong() != MAGIC) {
            throw new IOException(where + ": bad magic, not a Strata map checkpoint");
        }
        int version = in.readInt();
        if (version != VERSION) {
            throw new IOException(where + ": unsupported checkpoint format version " + version);
        }
        String volume = in.readUTF();
        if (!volume.equals(expectedVolume)) {
            throw new IOException(where + ": checkpoint of volume '" + volume + "', expected '" + expectedVolume + "'");
        }
        long objectSeq = in.readLong();
        long referencedSeq = in.readLong();
        if (referencedSeq < objectSeq) {
            throw new IOException(where + ": referenced object " + referencedSeq + " before covered object " + objectSeq);
        }
        long epoch = in.readLong();
        long lastJournalSeq = in.readLong();
        in.readLong(); // created, informational
        int count = in.readInt();
        if (count < 0) {
            throw new IOException(where + ": negative object count");
        }
        ObjectTable objects = new ObjectTable();
        for (int i = 0; i < count; i++) {
            long seq = in.readLong();
            long objEpoch = in.readLong();
            int headerBytes = in.readInt();
            long dataBytes = in.readLong();
            if (seq > objectSeq || headerBytes <= 0 || dataBytes < 0) {
                throw new IOException(where + ": invalid object table entry " + seq);
            }
            objects.add(seq, objEpoch, headerBytes, dataBytes);
        }
        ExtentMap map = ExtentMap.readFrom(in);
        if (in.available() != 0) {
            throw new IOException(where + ": " + in.available() + " trailing bytes");
        }
        return new MapCheckpoint(objectSeq, referencedSeq, epoch, lastJournalSeq, objects, map);
    }
}
