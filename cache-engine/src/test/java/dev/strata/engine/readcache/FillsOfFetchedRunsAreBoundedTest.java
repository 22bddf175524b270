package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.util.DirectIoMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When fetches outrun the cache disk, the fills of fetched runs waiting for it hold at most
 * {@link ReadCache#maxFetchFillsFor} GET buffers (docs/read-cache.md, "GET buffers"): past that,
 * readahead and a reader's own large miss wait for room before their GET, so every run fetched is
 * cached once the disk catches up, and every read returns the object's bytes.
 */
class FillsOfFetchedRunsAreBoundedTest {
    private static final int BLOCK = CacheFixture.BLOCK;
    private static final int RUN_BLOCKS = 16;
    private static final int RUNS = 40;

    @TempDir
    Path tmp;

    @Test
    void fetchesPastTheBoundWaitForRoomAndEveryRunIsCached() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, RUNS * RUN_BLOCKS * BLOCK);
            f.writeObject(2, RUN_BLOCKS * BLOCK);
            // One fill thread, so that one stalled fill stalls them all: a cache disk that is behind.
            ReadCacheConfig config = new ReadCacheConfig(f.cacheDir(), 2048L * BLOCK, 4, BLOCK, 16, EvictionPolicy.Kind.TINY_LFU,
                    Duration.ofMillis(20), 1, 256, 4, RUN_BLOCKS, DirectIoMode.AUTO);
            int bound = ReadCache.maxFetchFillsFor(config);
            assertTrue(bound < RUNS, "the test fetches more runs than the bound");
            f.open(config);
            f.warmHeader(1);
            f.warmHeader(2);

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
            awaitGets(s, bound);
            // A reader's own miss as large as a readahead GET, meanwhile: it waits for room too.
            AtomicReference<Throwable> readerFailed = new AtomicReference<>();
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    f.readAndCheck(2, 0, RUN_BLOCKS * BLOCK);
                } catch (Throwable e) {
                    readerFailed.set(e);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (s.fillRoomWaits.sum() < RUNS - bound + 1 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Thread.sleep(100);
            assertEquals(RUNS - bound + 1, s.fillRoomWaits.sum(), "each fetch past the bound waits, the reader's too: " + s);
            assertEquals(bound, s.bucketGets.sum(), "and makes no GET meanwhile: " + s);
            assertTrue(reader.isAlive(), "the reader's miss is still waiting");

            go.countDown();
            reader.join(10_000);
            assertNull(readerFailed.get(), "the reader got its bytes");
            awaitGets(s, RUNS + 1);
            f.cache.awaitFills();
            assertEquals(0, s.fillsDropped.sum(), s.toString());
            assertEquals((long) (RUNS + 1) * RUN_BLOCKS, f.cache.cachedBlocks(), "every run fetched is cached: " + s);
            long gets = s.bucketGets.sum();
            for (int b = 0; b < RUNS * RUN_BLOCKS; b += RUN_BLOCKS) {
                f.readAndCheck(1, (long) b * BLOCK, RUN_BLOCKS * BLOCK);
            }
            assertEquals(gets, s.bucketGets.sum(), "all hits: " + s);
        }
    }

    private static void awaitGets(ReadCacheStats s, long n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (s.bucketGets.sum() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }
}
