package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fetched run of blocks is filled with one slot reservation, so it takes consecutive free slots
 * even while other fills run, and each stretch of consecutive slots is written with one write
 * (docs/read-cache.md, "Fills bypass the page cache"); a later sequential read of the run is then
 * one {@code pread} per stretch too.
 */
class FetchedRunsAreFilledIntoConsecutiveSlotsTest {
    static final int BLOCK = CacheFixture.BLOCK;
    static final int BLOCKS = 16;

    @TempDir
    Path tmp;

    @Test
    void aRunOfSixteenBlocksIsOneWriteIntoSixteenConsecutiveSlots() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, BLOCKS * BLOCK);
            f.open(CacheFixture.config(f.cacheDir(), 64L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU).withReadahead(0, 16));
            f.readAndCheck(1, 0, BLOCKS * BLOCK);
            f.cache.awaitFills();
            assertEquals(BLOCKS, f.cache.stats().fills.sum());
            assertEquals(1, f.cache.stats().fileWrites.sum(), "one write for the whole run");
            ReadCache.SlotLocation first = f.cache.locate(f.key(1, 0));
            assertNotNull(first);
            for (int b = 1; b < BLOCKS; b++) {
                assertEquals(first.offset() + (long) b * BLOCK, f.cache.locate(f.key(1, b)).offset(), "block " + b);
            }
        }
    }

    @Test
    void concurrentRunsDoNotInterleaveTheirSlots() throws Exception {
        int objects = 8;
        try (CacheFixture f = new CacheFixture(tmp)) {
            for (int o = 1; o <= objects; o++) {
                f.writeObject(o, BLOCKS * BLOCK);
            }
            f.open(CacheFixture.config(f.cacheDir(), 256L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU).withReadahead(0, 16));
            CacheFixture.concurrently(objects, t -> f.readAndCheck(t + 1, 0, BLOCKS * BLOCK));
            f.cache.awaitFills();
            assertEquals(objects, f.cache.stats().fileWrites.sum(), "one write per run: no run was split by another");
            for (int o = 1; o <= objects; o++) {
                long start = f.cache.locate(f.key(o, 0)).offset();
                for (int b = 1; b < BLOCKS; b++) {
                    assertEquals(start + (long) b * BLOCK, f.cache.locate(f.key(o, b)).offset(), "object " + o + " block " + b);
                }
            }
            f.closeCache();
            f.open(CacheFixture.config(f.cacheDir(), 256L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU).withReadahead(0, 16));
            for (int o = 1; o <= objects; o++) {
                f.warmHeader(o);
            }
            long gets = f.dataGets();
            for (int o = 1; o <= objects; o++) {
                f.readAndCheck(o, 0, BLOCKS * BLOCK);
            }
            assertEquals(gets, f.dataGets(), "all hits after a restart");
            assertEquals(objects, f.cache.stats().fileReads.sum(), "one pread per run");
        }
    }
}
