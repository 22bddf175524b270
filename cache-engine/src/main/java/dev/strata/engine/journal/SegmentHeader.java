package dev.strata.engine.journal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * The first block of a segment file: which segment of which volume this is. Layout in
 * docs/journal.md; this class is the only place that knows it.
 *
 * @param segmentId   the segment id, equal to the one in the file name
 * @param segmentSize the size the file was created with, in bytes
 * @param volumeId    the volume the segment belongs to
 */
public record SegmentHeader(long segmentId, long segmentSize, String volumeId) {

    static final int MAGIC = 0x534A5347; // "SJSG"
    static final short VERSION = 1;
    static final int MAX_VOLUME_ID_BYTES = 255;
    private static final int VOLUME_ID_OFFSET = 26;
    private static final int CRC_OFFSET = JournalFormat.BLOCK - 4;

    public SegmentHeader {
        Objects.requireNonNull(volumeId, "volumeId");
        checkVolumeId(volumeId);
    }

    /** Rejects volume ids that do not fit the header (empty or more than 255 UTF-8 bytes). */
    public static void checkVolumeId(String volumeId) {
        int length = volumeId.getBytes(StandardCharsets.UTF_8).length;
        if (length == 0 || length > MAX_VOLUME_ID_BYTES) {
            throw new IllegalArgumentException("volume id must be 1.." + MAX_VOLUME_ID_BYTES + " UTF-8 bytes, got " + length + ": " + volumeId);
        }
    }

    /** Writes this header into {@code block} (absolute positions 0..4095, all of them). */
    public void encode(ByteBuffer block) {
        for (int i = 0; i < JournalFormat.BLOCK; i += 8) {
            block.putLong(i, 0L);
        }
        byte[] id = volumeId.getBytes(StandardCharsets.UTF_8);
        block.putInt(0, MAGIC);
        block.putShort(4, VERSION);
        block.putLong(8, segmentId);
        block.putLong(16, segmentSize);
        block.putShort(24, (short) id.length);
        block.put(VOLUME_ID_OFFSET, id);
        block.putInt(CRC_OFFSET, crc(block));
    }

    /**
     * Reads a header from {@code block} (absolute positions 0..4095).
     *
     * @return the header, or null if the block is not a valid header; {@code why[0]} then says why
     */
    public static SegmentHeader decode(ByteBuffer block, String[] why) {
        if (block.limit() < JournalFormat.BLOCK) {
            why[0] = "header block is short (" + block.limit() + " bytes)";
            return null;
        }
        int magic = block.getInt(0);
        if (magic != MAGIC) {
            why[0] = String.format("bad segment magic 0x%08x", magic);
            return null;
        }
        short version = block.getShort(4);
        if (version != VERSION) {
            why[0] = "unsupported segment format version " + version;
            return null;
        }
        int stored = block.getInt(CRC_OFFSET);
        int actual = crc(block);
        if (stored != actual) {
            why[0] = String.format("segment header CRC32C mismatch (stored 0x%08x, computed 0x%08x)", stored, actual);
            return null;
        }
        int length = block.getShort(24) & 0xffff;
        if (length == 0 || length > MAX_VOLUME_ID_BYTES) {
            why[0] = "bad volume id length " + length;
            return null;
        }
        byte[] id = new byte[length];
        block.get(VOLUME_ID_OFFSET, id);
        try {
            return new SegmentHeader(block.getLong(8), block.getLong(16), new String(id, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) { // bytes that are not UTF-8 despite a good CRC: written by someone else
            why[0] = "bad volume id: " + e.getMessage();
            return null;
        }
    }

    private static int crc(ByteBuffer block) {
        CRC32C crc = new CRC32C();
        crc.update(block.slice(0, CRC_OFFSET));
        return (int) crc.getValue();
    }
}
