package dev.strata.engine.volume;

import java.nio.ByteBuffer;
import java.util.Arrays;

/** 4 KiB blocks of one byte value, written and read back by the volume tests that check what an open sees. */
final class FilledBlocks {
    static final int SIZE = 4096;

    private FilledBlocks() {}

    /** A 4 KiB block with every byte {@code value}. */
    static ByteBuffer block(int value) {
        byte[] b = new byte[SIZE];
        Arrays.fill(b, (byte) value);
        return ByteBuffer.wrap(b);
    }

    /** The 4 KiB of {@code v} at {@code offset}. */
    static byte[] read(Volume v, long offset) throws java.io.IOException {
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        v.read(offset, b);
        return b.array();
    }
}
