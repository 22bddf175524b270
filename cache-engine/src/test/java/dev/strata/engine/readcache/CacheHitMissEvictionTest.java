package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hits, misses and eviction, per shard, with real objects and a real cache file. */
class CacheHitMissEvictionTest {
    static final int BLOCK = CacheFixture.BLOCK;

    @TempDir
    Path tmp;

    @Test
    void aMissIsFilledAndTheNextReadHitsWithoutAGet() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 4 * BLOCK);
            f.open(CacheFixture.config(f.cacheDir(), 16L * BLOCK, 4, EvictionPolicy.Kind.TINY_LFU));
            f.warmHeader(1);
            long gets = f.dataGets();
            f.readAndCheck(1, BLOCK + 100, 4096);
            assertEquals(gets + 1, f.dataGets(), "a miss is one GET");
            assertEquals(1, f.cache.stats().readsNoHit.sum());
            f.cache.awaitFills();
            f.readAndCheck(1, BLOCK + 5000, 8192);
            assertEquals(gets + 1, f.dataGets(), "the second read hits");
            assertEquals(1, f.cache.stats().readsFullHit.sum());
            assertEquals(1, f.cache.stats().fills.sum());
        }
    }

    @Test
    void aFullShardEvictsItsLeastRecentlyUsedBlockAndStaysWithinItsSlots() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 6 * BLOCK);
            // No readahead: a sequential reader would prefetch the next blocks into this 4-slot cache
            // ahead of its own, and the order of evictions is what this test checks.
            f.open(CacheFixture.config(f.cacheDir(), 4L * BLOCK, 1, EvictionPolicy.Kind.LRU).withReadahead(0, 1));
            f.warmHeader(1);
            for (int b = 0; b < 6; b++) {
                f.readAndCheck(1, (long) b * BLOCK, BLOCK);
                f.cache.awaitFills();
            }
            assertEquals(4, f.cache.cachedBlocks(), "one shard of 4 slots holds 4 blocks");
            assertEquals(2, f.cache.evictions(), "blocks 0 and 1 gave way");
            long gets = f.dataGets();
            f.readAndCheck(1, 5L * BLOCK, 512); // the newest: a hit
            assertEquals(gets, f.dataGets());
            f.readAndCheck(1, 0, 512); // the oldest was evicted: a GET
            assertEquals(gets + 1, f.dataGets());
        }
    }

    @Test
    void everyShardKeepsToItsOwnSlotCount() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            for (long seq = 1; seq <= 8; seq++) {
                f.writeObject(seq, 4 * BLOCK);
            }
            // 4 shards of 2 slots; 32 distinct blocks: each object is one region, so its blocks share a shard.
            f.open(CacheFixture.config(f.cacheDir(), 8L * BLOCK, 4, EvictionPolicy.Kind.CLOCK));
            for (long seq = 1; seq <= 8; seq++) {
                for (int b = 0; b < 4; b++) {
                    f.readAndCheck(seq, (long) b * BLOCK, BLOCK);
                }
            }
            f.cache.awaitFills();
            assertTrue(f.cache.cachedBlocks() <= 8 && f.cache.cachedBlocks() >= 2, "no shard over its 2 slots: " + f.cache.cachedBlocks());
            assertEquals(f.cache.stats().fills.sum() - f.cache.cachedBlocks(), f.cache.evictions(),
                    "every fill into a full shard evicted one");
            // A block that is cached is a hit. (Which blocks survived depends on the order in which the
            // fill threads ran, so the test asks the cache rather than assuming the last one read.)
            long cachedSeq = -1;
            int cachedBlock = -1;
            for (long seq = 8; seq >= 1 && cachedSeq < 0; seq--) {
                for (int b = 3; b >= 0; b--) {
                    if (f.cache.locate(f.key(seq, b)) != null) {
                        cachedSeq = seq;
                        cachedBlock = b;
                        break;
                    }
                }
            }
            assertTrue(cachedSeq > 0, "something is cached: " + f.cache.stats());
            f.warmHeader(cachedSeq);
            long gets = f.dataGets();
            f.readAndCheck(cachedSeq, (long) cachedBlock * BLOCK + 1024, 3072);
            assertEquals(gets, f.dataGets(), "a hit: " + f.cache.stats());
            for (long seq = 1; seq <= 8; seq++) {
                for (int b = 0; b < 4; b++) {
                    f.readAndCheck(seq, (long) b * BLOCK + 1000, 3000); // evicted or not, always right
                }
            }
        }
    }

    @Test
    void theShortLastBlockOfAnObjectIsCachedWithItsOwnLength() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 2 * BLOCK + 1536);
            f.open(CacheFixture.config(f.cacheDir(), 16L * BLOCK, 2, EvictionPolicy.Kind.TINY_LFU));
            f.warmHeader(1);
            f.readAndCheck(1, 2L * BLOCK, 1536);
            f.cache.awaitFills();
            long gets = f.dataGets();
            f.readAndCheck(1, 2L * BLOCK + 512, 1024);
            f.readAndCheck(1, BLOCK - 512, BLOCK + 1024); // spans three blocks, last one short
            assertEquals(gets + 1, f.dataGets(), "only block 0-1 fetched; the short block hit");
        }
    }
}
