package dev.strata.engine.util;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** CRC32C helpers: every on-disk and in-bucket format of Strata is checksummed with CRC32C. */
public final class Crc32c {
    private Crc32c() {}

    public static int of(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /** CRC of {@code buf}'s bytes [from, to) without moving its position. */
    public static int of(ByteBuffer buf, int from, int to) {
        CRC32C c = new CRC32C();
        c.update(buf.duplicate().limit(to).position(from));
        return (int) c.getValue();
    }
}
