package dev.strata.engine.util;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The CRC32C of two pieces combined from their own CRCs equals the CRC32C of the whole, for any
 * split (the page-sized shift has its own tables); one pass of {@link Crc32c#ofPages} gives the
 * page CRCs the read cache keeps and the block CRC an object header lists.
 */
class Crc32cTest {
    private static final Random RANDOM = new Random(42);

    @Test
    void combiningTheCrcsOfTwoPiecesGivesTheCrcOfTheWhole() {
        byte[] data = new byte[3 * Crc32c.PAGE + 777];
        RANDOM.nextBytes(data);
        for (int split : new int[] {0, 1, 511, 512, 4095, 4096, 4097, 8192, data.length - Crc32c.PAGE, data.length - 1, data.length}) {
            int a = Crc32c.of(data, 0, split);
            int b = Crc32c.of(data, split, data.length - split);
            assertEquals(Crc32c.of(data, 0, data.length), Crc32c.combine(a, b, data.length - split), "split at " + split);
        }
        for (int i = 0; i < 200; i++) {
            int split = RANDOM.nextInt(data.length + 1);
            int end = split + RANDOM.nextInt(data.length - split + 1);
            assertEquals(Crc32c.of(data, 0, end), Crc32c.combine(Crc32c.of(data, 0, split), Crc32c.of(data, split, end - split), end - split),
                    "split at " + split + " of " + end);
        }
    }

    @Test
    void pagesInOnePassGiveEachPageCrcAndTheCrcOfTheWhole() {
        for (int length : new int[] {512, 4096, 65536, 65536 - 512, 12345, 3 * 4096 + 1}) {
            ByteBuffer buf = ByteBuffer.allocateDirect(length + 100);
            byte[] bytes = new byte[length + 100];
            RANDOM.nextBytes(bytes);
            buf.put(bytes).position(13); // the position is left alone
            int[] pages = new int[(length + Crc32c.PAGE - 1) / Crc32c.PAGE + 2];
            int whole = Crc32c.ofPages(buf, 50, 50 + length, pages, 1);
            assertEquals(Crc32c.of(bytes, 50, length), whole, "whole of " + length);
            for (int p = 0; p * Crc32c.PAGE < length; p++) {
                int from = 50 + p * Crc32c.PAGE;
                assertEquals(Crc32c.of(bytes, from, Math.min(Crc32c.PAGE, 50 + length - from)), pages[1 + p], "page " + p + " of " + length);
            }
            assertEquals(0, pages[0], "nothing written before outAt");
            assertEquals(13, buf.position());
        }
    }
}
