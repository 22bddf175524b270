package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.util.DirectIoMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When fetches outrun the cache disk, the fills of fetched runs waiting for it hold at most
 * {@link ReadCache#maxFetchFillsFor} GET buffers; the runs past that are not cached (counted as
 * dropped fills) instead of holding a fresh buffer each until the disk catches up, and every read
 * still returns the object's bytes (docs/read-cache.md, "GET buffers").
 */
class FillsOfFetchedRunsAreBoundedTest {
    private static final int BLOCK = CacheFixture.BLOCK;
    private static final int RUN_BLOCKS = 16;
    private static final int RUNS = 40;

    @TempDir
    Path tmp;

    @Test
    void fetchedRunsPastTheBoundAreNotQueuedForTheDisk() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, RUNS * RUN_BLOCKS * BLOCK);
            // One fill thread, so that one stalled fill stalls them all: a cache disk that is behind.
            ReadCacheConfig config = new ReadCacheConfig(f.cacheDir(), 2048L * BLOCK, 4, BLOCK, 16, EvictionPolicy.Kind.TINY_LFU,
                    Duration.ofMillis(20), 1, 256, 4, RUN_BLOCKS, DirectIoMode.AUTO);
            int bound = ReadCache.maxFetchFillsFor(config);
            assertTrue(bound < RUNS, "the test fetches more runs than the bound");
            f.open(config);
            f.warmHeader(1);

            CountDownLatch stalled = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            CachedObject other = new CachedObject(7, 7, 99, 1, BLOCK, new int[] {0}, "stall");
            f.cache.fillUploaded(other, (off, dst, len) -> {
                stalled.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                dst.put(new byte[len]);
            }, () -> { }, false);
            assertTrue(stalled.await(10, TimeUnit.SECONDS), "the fill thread took the stalling fill");

            f.reader.prefetch(1, CacheFixture.EPOCH, 0, (long) RUNS * RUN_BLOCKS * BLOCK);
            ReadCacheStats s = f.cache.stats();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (s.fillsDropped.sum() < RUNS - bound && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(RUNS, s.bucketGets.sum(), "every run fetched: " + s);
            assertEquals(RUNS - bound, s.fillsDropped.sum(), "runs past the bound are not queued: " + s);

            go.countDown();
            f.cache.awaitFills();
            assertEquals((long) bound * RUN_BLOCKS, f.cache.cachedBlocks(), "the queued runs were filled, the others not: " + s);
            for (int b = 0; b < RUNS * RUN_BLOCKS; b += 2) {
                f.readAndCheck(1, (long) b * BLOCK, 2 * BLOCK);
            }
        }
    }
}
