package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A read over cached and missing blocks GETs only the missing ones, one GET per run of adjacent ones. */
class PartialHitFetchesOnlyMissingBlocksTest {
    static final int BLOCK = CacheFixture.BLOCK;

    @TempDir
    Path tmp;

    @Test
    void aCachedBlockInTheMiddleSplitsTheFetchIntoTwoRangedGets() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 8 * BLOCK);
            f.open(CacheFixture.config(f.cacheDir(), 64L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU));
            f.warmHeader(1);
            f.readAndCheck(1, 2L * BLOCK + 4096, 4096); // caches block 2
            f.cache.awaitFills();
            long gets = f.dataGets();
            long bytes = f.cache.stats().bucketBytes.sum();
            f.readAndCheck(1, 100 * 512, 5 * BLOCK - 200 * 512); // blocks 0..4
            assertEquals(gets + 2, f.dataGets(), "blocks 0-1 and 3-4: two GETs");
            assertEquals(4L * BLOCK, f.cache.stats().bucketBytes.sum() - bytes, "block 2 not fetched again");
            assertEquals(1, f.cache.stats().readsPartialHit.sum());
        }
    }

    @Test
    void aCachedLaterBlockIsNotFetchedAgain() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 8 * BLOCK);
            f.open(CacheFixture.config(f.cacheDir(), 64L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU));
            f.warmHeader(1);
            f.readAndCheck(1, 5L * BLOCK, BLOCK);
            f.cache.awaitFills();
            long bytes = f.cache.stats().bucketBytes.sum();
            f.readAndCheck(1, 3L * BLOCK, 3 * BLOCK);
            assertEquals(2L * BLOCK, f.cache.stats().bucketBytes.sum() - bytes, "blocks 3-4 only");
        }
    }
}
