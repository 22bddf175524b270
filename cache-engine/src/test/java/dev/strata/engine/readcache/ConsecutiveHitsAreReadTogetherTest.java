package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hits on consecutive blocks that a read wants whole, held in consecutive slots, are read from the
 * cache file with one {@code pread} per run of slots straight into the reader's buffer (a
 * sequential reader after a restart), and are still verified page by page: a corrupt block inside
 * such a run is dropped and refetched alone, and its bytes are overwritten before the read returns.
 */
class ConsecutiveHitsAreReadTogetherTest {
    static final int BLOCK = CacheFixture.BLOCK;
    static final int BLOCKS = 16;

    @TempDir
    Path tmp;

    /** Fills the cache with object 1 (one GET run, one fill), then reopens it: no fetched run is left in memory. */
    private static ReadCacheConfig filledAndReopened(CacheFixture f) throws Exception {
        f.writeObject(1, BLOCKS * BLOCK);
        ReadCacheConfig c = CacheFixture.config(f.cacheDir(), 64L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU).withReadahead(0, 16);
        f.open(c);
        f.readAndCheck(1, 0, BLOCKS * BLOCK);
        f.cache.awaitFills();
        f.closeCache();
        f.open(c);
        f.warmHeader(1);
        return c;
    }

    /** Runs of consecutive slots holding blocks [from, to) of object 1, in block order. */
    private static int slotRuns(CacheFixture f, int from, int to) {
        int runs = 0;
        long previous = Long.MIN_VALUE;
        for (int b = from; b < to; b++) {
            ReadCache.SlotLocation at = f.cache.locate(f.key(1, b));
            assertNotNull(at, "block " + b + " is cached");
            if (at.offset() != previous + BLOCK) {
                runs++;
            }
            previous = at.offset();
        }
        return runs;
    }

    @Test
    void aWholeRunOfHitsIsOnePreadPerRunOfSlots() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            filledAndReopened(f);
            int runs = slotRuns(f, 0, BLOCKS);
            assertTrue(runs < BLOCKS / 2, "one fill of a GET run takes (mostly) consecutive slots: " + runs + " runs");
            long gets = f.dataGets();
            f.readAndCheck(1, 0, BLOCKS * BLOCK);
            assertEquals(gets, f.dataGets(), "all hits");
            assertEquals(1, f.cache.stats().readsFullHit.sum());
            assertEquals(runs, f.cache.stats().fileReads.sum(), "one pread per run of consecutive slots, not one per block");
        }
    }

    @Test
    void partlyWantedEndBlocksAreReadAloneAndTheWholeOnesTogether() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            filledAndReopened(f);
            int runs = slotRuns(f, 4, 8);
            f.readAndCheck(1, 3L * BLOCK + 5000, 5 * BLOCK + 1234); // blocks 3..8, partial at both ends
            assertEquals(2 + runs, f.cache.stats().fileReads.sum(), "blocks 3 and 8 alone, 4..7 per run of slots");
            assertEquals(0, f.cache.stats().corruptBlocks.sum());
        }
    }

    @Test
    void aRunReadIntoTheReadersBufferWritesNothingOutsideTheRange() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            filledAndReopened(f);
            ByteBuffer dst = ByteBuffer.allocateDirect(4 * BLOCK + 200);
            for (int i = 0; i < dst.capacity(); i++) {
                dst.put(i, (byte) 0x5A);
            }
            dst.position(100);
            f.reader.read(1, CacheFixture.EPOCH, 4L * BLOCK, dst, 4 * BLOCK);
            assertEquals(100 + 4 * BLOCK, dst.position());
            for (int i = 0; i < 4 * BLOCK; i++) {
                assertEquals(CacheFixture.expected(1, 4L * BLOCK + i), dst.get(100 + i), "byte " + i);
            }
            for (int i = 0; i < 100; i++) {
                assertEquals((byte) 0x5A, dst.get(i), "before the range, byte " + i);
                assertEquals((byte) 0x5A, dst.get(100 + 4 * BLOCK + i), "after the range, byte " + i);
            }
            assertEquals(slotRuns(f, 4, 8), f.cache.stats().fileReads.sum());
        }
    }

    @Test
    void aCorruptBlockInsideARunIsDroppedAndRefetchedAlone() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            filledAndReopened(f);
            ReadCache.SlotLocation at = f.cache.locate(f.key(1, 7));
            try (FileChannel ch = FileChannel.open(at.file(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ByteBuffer one = ByteBuffer.allocate(1);
                ch.read(one, at.offset() + 40000);
                one.put(0, (byte) (one.get(0) ^ 0x01)).rewind();
                ch.write(one, at.offset() + 40000);
            }
            long gets = f.dataGets();
            f.readAndCheck(1, 0, BLOCKS * BLOCK);
            assertEquals(1, f.cache.stats().corruptBlocks.sum(), "the flipped block was caught");
            assertEquals(gets + 1, f.dataGets(), "and only it came from the bucket");
            assertEquals(BLOCKS - 1, f.cache.stats().blockHits.sum(), "its neighbours in the same pread are hits");
            f.cache.awaitFills();
            f.readAndCheck(1, 0, BLOCKS * BLOCK);
            assertEquals(gets + 1, f.dataGets(), "refilled: all hits again");
        }
    }
}
