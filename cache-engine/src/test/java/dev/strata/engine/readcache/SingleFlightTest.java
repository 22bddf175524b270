package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;

/**
 * Concurrent misses on one block fetch it once; the rest are answered with the leader's bytes.
 * Likewise an object's header: readers and readaheads that need it while it is being fetched wait
 * for that GET, and one that registers its own fetch just after another finished uses the header
 * that fetch remembered (that gap made a second GET in 2 runs of 200 before it was closed, hence
 * the repetitions).
 */
class SingleFlightTest {
    @TempDir
    Path tmp;

    @RepeatedTest(5)
    void manyThreadsMissingOneBlockMakeExactlyOneGet() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 8 * CacheFixture.BLOCK);
            f.open(CacheFixture.config(f.cacheDir(), 64L * CacheFixture.BLOCK, 4, EvictionPolicy.Kind.TINY_LFU));
            f.warmHeader(1);
            long gets = f.dataGets();
            int threads = 32;
            CacheFixture.concurrently(threads, id -> f.readAndCheck(1, 3L * CacheFixture.BLOCK + 512 * id, 4096));
            assertEquals(gets + 1, f.dataGets(), "one GET for " + threads + " readers: " + f.cache.stats());
            assertEquals(1, f.cache.stats().bucketGets.sum());
            ReadCacheStats s = f.cache.stats();
            assertEquals(threads, s.readsNoHit.sum() + s.readsFullHit.sum(), "every reader either missed or hit");
        }
    }

    @RepeatedTest(50)
    void readersOfAnObjectWhoseHeaderIsUnknownFetchTheHeaderOnce() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 8 * CacheFixture.BLOCK);
            f.open(CacheFixture.config(f.cacheDir(), 64L * CacheFixture.BLOCK, 4, EvictionPolicy.Kind.TINY_LFU));
            int threads = 32;
            CacheFixture.concurrently(threads, id -> f.readAndCheck(1, 3L * CacheFixture.BLOCK, 4096));
            assertEquals(2, f.dataGets(), "one header GET and one data GET for " + threads + " readers: " + f.cache.stats());
        }
    }

    @RepeatedTest(3)
    void readaheadsOfAnObjectWhoseHeaderIsOnItsWayMakeNoSecondHeaderGet() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 8 * CacheFixture.BLOCK);
            f.open(CacheFixture.config(f.cacheDir(), 64L * CacheFixture.BLOCK, 4, EvictionPolicy.Kind.TINY_LFU));
            for (int b = 0; b < 8; b++) {
                f.reader.prefetch(1, CacheFixture.EPOCH, (long) b * CacheFixture.BLOCK, CacheFixture.BLOCK); // a window moving on
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (f.cache.cachedBlocks() < 8) {
                assertTrue(System.nanoTime() < deadline, "readahead did not finish: " + f.cache.stats());
                Thread.sleep(1);
            }
            // The first prefetch's block rides with the header GET (TheFirstRunRidesWithTheHeaderTest).
            assertEquals(1 + 7, f.dataGets(), "one header GET with block 0, then one GET per further block: " + f.cache.stats());
        }
    }
}
