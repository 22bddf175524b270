package dev.strata.engine.extentmap;

import java.io.DataInput;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The checkpoint form of an {@link ExtentMap}: a big-endian {@code long} entry count, then per
 * entry {@code lba << 24 | length} and the location (16 bytes, the in-memory packing). Reading
 * validates everything the map's invariants need, because a checkpoint that passed its CRC can
 * still come from a buggy writer, and a bad map silently returns wrong data.
 */
final class ExtentMapCodec {

    private ExtentMapCodec() {
    }

    static void write(ExtentMap map, ByteBuffer out) {
        out.putLong(map.extentCount());
        map.forEach((lba, sectors, location) -> out.putLong(Leaf.word0(lba, sectors)).putLong(location));
    }

    static ExtentMap read(DataInput in, ExtentMap map) throws IOException {
        long count = in.readLong();
        // Every entry covers at least one sector, so more than MAX_LBA entries is impossible.
        if (count < 0 || count > ExtentMap.MAX_LBA) {
            throw new IOException("corrupt extent map: entry count " + count);
        }
        long prevEnd = 0;
        for (long k = 0; k < count; k++) {
            long word0;
            long location;
            try {
                word0 = in.readLong();
                location = in.readLong();
            } catch (EOFException e) {
                throw new IOException("corrupt extent map: truncated after " + k + " of " + count + " entries", e);
            }
            long lba = word0 >>> Leaf.LBA_SHIFT;
            long length = word0 & Leaf.LENGTH_MASK;
            String at = "entry " + k + " (lba " + lba + ", " + length + " sectors, location " + location + ")";
            if (length == 0) {
                throw new IOException("corrupt extent map: " + at + " has zero length");
            }
            if (lba < prevEnd) {
                throw new IOException("corrupt extent map: " + at + " is unsorted or overlaps the previous extent ending at " + prevEnd);
            }
            if (lba + length > ExtentMap.MAX_LBA) {
                throw new IOException("corrupt extent map: " + at + " ends past the addressable space");
            }
            if (location < 0) {
                throw new IOException("corrupt extent map: " + at + " has a negative location");
            }
            if (Locations.offsetSectors(location) + length > Locations.OBJECT_SECTORS) {
                throw new IOException("corrupt extent map: " + at + " spans two objects");
            }
            map.appendSorted(lba, length, location);
            prevEnd = lba + length;
        }
        map.finishLoad();
        return map;
    }
}
