package dev.strata.engine.extentmap;

/**
 * Packing of a data location into one {@code long}: {@code (objectSeq << 24) | offsetSectors}.
 *
 * <p>{@code offsetSectors} is the sector offset of the data inside the data area of object
 * {@code objectSeq}. The packing is linear inside one object (sector {@code k} further on is
 * {@code loc + k}), which is what lets the extent map split an extent by plain addition. Object
 * sequence numbers are limited to 39 bits so a packed location is never negative: negative
 * values are free for sentinels such as {@link ExtentMap#UNMAPPED}.
 */
public final class Locations {

    /** Bits of the packed location that hold the sector offset. */
    public static final int OFFSET_BITS = 24;

    /** Largest sector offset inside one object's data area (2^24 - 1, i.e. 8 GiB - 512 B). */
    public static final long MAX_OFFSET_SECTORS = (1L << OFFSET_BITS) - 1;

    /** Sectors addressable inside one object: an extent never spans more than this. */
    public static final long OBJECT_SECTORS = 1L << OFFSET_BITS;

    /** Largest object sequence number that keeps packed locations non-negative. */
    public static final long MAX_OBJECT_SEQ = (1L << (63 - OFFSET_BITS)) - 1;

    private Locations() {
    }

    public static long pack(long objectSeq, long offsetSectors) {
        if (objectSeq < 0 || objectSeq > MAX_OBJECT_SEQ) {
            throw new IllegalArgumentException("object sequence out of range: " + objectSeq);
        }
        if (offsetSectors < 0 || offsetSectors > MAX_OFFSET_SECTORS) {
            throw new IllegalArgumentException("offset out of range: " + offsetSectors + " sectors");
        }
        return (objectSeq << OFFSET_BITS) | offsetSectors;
    }

    public static long objectSeq(long location) {
        return location >>> OFFSET_BITS;
    }

    public static long offsetSectors(long location) {
        return location & MAX_OFFSET_SECTORS;
    }

    /** Sectors from {@code location} to the end of its object's addressable data area. */
    static long sectorsLeftInObject(long location) {
        return OBJECT_SECTORS - offsetSectors(location);
    }
}
