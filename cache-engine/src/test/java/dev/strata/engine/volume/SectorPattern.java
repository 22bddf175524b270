package dev.strata.engine.volume;

import java.nio.ByteBuffer;

/**
 * Self-describing sector contents for model tests: a sector written with tag T at LBA L holds
 * T, L and bytes derived from both, so a read-back sector says which write it came from (tag 0:
 * zeros, never written or trimmed) and garbage is recognised as garbage.
 */
public final class SectorPattern {
    public static final int SECTOR = 512;
    /** Tag of a sector that could not be decoded (neither zeros nor a valid pattern). */
    public static final long GARBAGE = -1;

    private SectorPattern() {}

    public static void fill(ByteBuffer dst, long tag, long lba) {
        int p = dst.position();
        dst.putLong(p, tag);
        dst.putLong(p + 8, lba);
        long x = tag * 0x9E3779B97F4A7C15L ^ lba * 0xC2B2AE3D27D4EB4FL;
        for (int i = 16; i < SECTOR; i += 8) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            dst.putLong(p + i, x);
        }
        dst.position(p + SECTOR);
    }

    /** The tag of the sector at {@code dst}'s absolute position {@code p}, for LBA {@code lba}. */
    public static long decode(ByteBuffer src, int p, long lba) {
        long tag = src.getLong(p);
        if (tag == 0) {
            for (int i = 0; i < SECTOR; i += 8) {
                if (src.getLong(p + i) != 0) {
                    return GARBAGE;
                }
            }
            return 0;
        }
        ByteBuffer expect = ByteBuffer.allocate(SECTOR);
        fill(expect, tag, lba);
        return src.slice(p, SECTOR).equals(expect.flip()) ? tag : GARBAGE;
    }
}
