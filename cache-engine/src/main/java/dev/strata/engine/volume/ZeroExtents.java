package dev.strata.engine.volume;

import dev.strata.engine.extentmap.DisplacedListener;
import dev.strata.engine.extentmap.ExtentMap;
import dev.strata.engine.extentmap.Locations;
import java.nio.ByteBuffer;

/**
 * ZERO locations: in the map of a clone, an unmapped LBA reads through to the parent, so a trim
 * or write-zeroes must leave something that hides the parent's data. Object sequence 0 is never
 * an object (objects start at 1), so a location with object 0 means "reads as zeros".
 * docs/snapshots-and-clones.md, "layers".
 */
final class ZeroExtents {
    static final long ZERO = Locations.pack(0, 0);

    private ZeroExtents() {
    }

    static boolean isZero(long location) {
        return location != ExtentMap.UNMAPPED && Locations.objectSeq(location) == 0;
    }

    /**
     * Maps the range to ZERO in pieces of at most MAX_OFFSET_SECTORS: the map advances the
     * location across a long put, which would otherwise run from object 0 into object 1.
     */
    static void put(ExtentMap map, long lba, long sectors, DisplacedListener displaced) {
        long done = 0;
        while (done < sectors) {
            long n = Math.min(sectors - done, Locations.MAX_OFFSET_SECTORS);
            map.put(lba + done, n, ZERO, displaced);
            done += n;
        }
    }

    /** Fills {@code bytes} of {@code dst} from its position with zeros, advancing it. */
    static void fill(ByteBuffer dst, int bytes) {
        int p = dst.position();
        for (int i = 0; i < bytes; i++) {
            dst.put(p + i, (byte) 0);
        }
        dst.position(p + bytes);
    }

    /** An unmapped run: from the parent layer if there is one, else zeros. */
    static void readUnmapped(Volume parent, long lba, int bytes, ByteBuffer dst) throws java.io.IOException {
        if (parent == null) {
            fill(dst, bytes);
            return;
        }
        parent.read(lba * Volume.SECTOR_SIZE, dst.slice(dst.position(), bytes));
        dst.position(dst.position() + bytes);
    }
}
