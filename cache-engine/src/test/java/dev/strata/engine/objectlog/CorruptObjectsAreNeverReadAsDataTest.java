package dev.strata.engine.objectlog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.volume.CorruptDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 2 of the engine, for objects: hand-made objects, truncated at random offsets and
 * with flipped bytes, are detected — a read of them is a {@link CorruptDataException} naming
 * the object, or correct data when the damage lies outside what is read; never wrong data.
 */
class CorruptObjectsAreNeverReadAsDataTest {
    @TempDir
    Path tmp;

    private static final VolumeKeys KEYS = new VolumeKeys("v");

    /** An object of several extents over ~300 KiB of random data (5 data blocks). */
    private static Batch batch(Random r) {
        Batch b = new Batch(7, 3, new BufferPool(1 << 20, 1), 1000);
        long seq = 100;
        for (int i = 0; i < 40; i++) {
            byte[] d = new byte[512 * (1 + r.nextInt(16))];
            r.nextBytes(d);
            b.addWrite(seq++, r.nextInt(100_000), ByteBuffer.wrap(d));
        }
        b.addNoData(seq, 5, 9, ExtentKind.TRIM);
        b.seal();
        return b;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    @Test
    void intactObjectRoundTripsItsHeaderAndData() throws IOException {
        Batch b = batch(new Random(1));
        ByteBuffer obj = b.encodeObject();
        ObjectHeader h = ObjectHeader.decode(obj.duplicate(), "test");
        assertEquals(7, h.objectSeq);
        assertEquals(3, h.epoch);
        assertEquals(100, h.firstJournalSeq);
        assertEquals(140, h.lastJournalSeq);
        assertEquals(41, h.extentCount);
        assertEquals(ExtentKind.TRIM, h.kindOf(40));
        try (ObjectStore store = new LocalDirectoryObjectStore(tmp)) {
            store.put(KEYS.object(7, 3), obj.duplicate());
            ObjectReader reader = new ObjectReader(store, KEYS, 4);
            ByteBuffer all = ByteBuffer.allocate((int) h.dataBytes);
            reader.read(7, 3, 0, all, (int) h.dataBytes);
            byte[] expect = new byte[(int) h.dataBytes];
            obj.duplicate().position(h.headerBytes).get(expect);
            assertArrayEquals(expect, all.array());
        }
    }

    @Test
    void flippedBytesAnywhereAreDetectedOrHarmless() throws IOException {
        Random r = new Random(2);
        Batch b = batch(r);
        byte[] good = bytes(b.encodeObject());
        ObjectHeader h = ObjectHeader.decode(ByteBuffer.wrap(good), "good");
        try (ObjectStore store = new LocalDirectoryObjectStore(tmp)) {
            for (int trial = 0; trial < 300; trial++) {
                byte[] bad = good.clone();
                int at = trial < 100 ? r.nextInt(h.headerBytes) : h.headerBytes + r.nextInt((int) h.dataBytes);
                bad[at] ^= (byte) (1 << r.nextInt(8));
                store.put(KEYS.object(7, 3), ByteBuffer.wrap(bad));
                ObjectReader reader = new ObjectReader(store, KEYS, 4); // no cached header
                int off = r.nextInt((int) h.dataBytes / 512) * 512;
                int len = Math.min((int) h.dataBytes - off, 512 * (1 + r.nextInt(64)));
                ByteBuffer got = ByteBuffer.allocate(len);
                try {
                    reader.read(7, 3, off, got, len);
                    // Accepted: then it must be the right data, and the flip lies in padding or outside the blocks read.
                    byte[] expect = new byte[len];
                    System.arraycopy(good, h.headerBytes + off, expect, 0, len);
                    assertArrayEquals(expect, got.array(), "wrong data returned after flipping byte " + at);
                    boolean inReadBlocks = at >= h.headerBytes
                            && (at - h.headerBytes) / ObjectHeader.DATA_BLOCK_SIZE >= off / ObjectHeader.DATA_BLOCK_SIZE
                            && (at - h.headerBytes) / ObjectHeader.DATA_BLOCK_SIZE <= (off + len - 1) / ObjectHeader.DATA_BLOCK_SIZE;
                    assertTrue(!inReadBlocks, "a flip inside a block that was read went unnoticed: byte " + at);
                } catch (CorruptDataException e) {
                    assertTrue(e.getMessage().contains(KEYS.object(7, 3)), "error names the object: " + e.getMessage());
                }
            }
        }
    }

    @Test
    void truncatedObjectsAreDetected() throws IOException {
        Random r = new Random(3);
        Batch b = batch(r);
        byte[] good = bytes(b.encodeObject());
        ObjectHeader h = ObjectHeader.decode(ByteBuffer.wrap(good), "good");
        try (ObjectStore store = new LocalDirectoryObjectStore(tmp)) {
            for (int trial = 0; trial < 200; trial++) {
                int cut = r.nextInt(good.length);
                byte[] bad = java.util.Arrays.copyOf(good, cut);
                store.put(KEYS.object(7, 3), ByteBuffer.wrap(bad));
                ObjectReader reader = new ObjectReader(store, KEYS, 4);
                int off = r.nextInt((int) h.dataBytes / 512) * 512;
                int len = Math.min((int) h.dataBytes - off, 512 * (1 + r.nextInt(64)));
                ByteBuffer got = ByteBuffer.allocate(len);
                if (h.headerBytes + off + len <= cut
                        && h.headerBytes + (long) Math.min(h.dataBytes, ((off + len - 1) / ObjectHeader.DATA_BLOCK_SIZE + 1)
                        * (long) ObjectHeader.DATA_BLOCK_SIZE) <= cut) {
                    reader.read(7, 3, off, got, len); // everything it needs is there
                    byte[] expect = new byte[len];
                    System.arraycopy(good, h.headerBytes + off, expect, 0, len);
                    assertArrayEquals(expect, got.array());
                } else {
                    CorruptDataException e = assertThrows(CorruptDataException.class, () -> reader.read(7, 3, off, got, len),
                            "object cut at " + cut + " read at " + off + "+" + len);
                    assertTrue(e.getMessage().contains(KEYS.object(7, 3)), e.getMessage());
                }
            }
        }
    }
}
