package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.util.Crc32c;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache's side of readahead ({@link ReadCache#prefetch}; the volume decides what to prefetch,
 * see SequentialReadsPrefetchAcrossObjectsTest): prefetched blocks are fetched once, in GETs of
 * the configured size, and readers join or hit them; a corrupt block in a readahead range is never
 * returned (nor cached); a failed readahead never fails a read its own GET would have answered.
 */
class ReadaheadTest {
    private static final int BLOCK = CacheFixture.BLOCK;
    private static final int BLOCKS = 64;

    @TempDir
    Path tmp;

    private static ReadCacheConfig config(Path dir) {
        // 4 GETs of 4 blocks in flight ahead of a sequential reader.
        return CacheFixture.config(dir, 256L * BLOCK, 4, EvictionPolicy.Kind.TINY_LFU).withReadahead(4, 4);
    }

    @Test
    void prefetchedBlocksAreFetchedOnceInWholeGetsAndReadersJoinOrHitThem() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, BLOCKS * BLOCK);
            f.open(config(f.cacheDir()));
            f.warmHeader(1);
            long gets = f.dataGets();
            long bytes = f.store.stats().bytesGot.sum();
            for (int b = 0; b < BLOCKS; b += 2) {
                f.readAndCheck(1, (long) b * BLOCK, 2 * BLOCK);
                if (b == 2) {
                    f.reader.prefetch(1, CacheFixture.EPOCH, 4L * BLOCK, (BLOCKS - 4L) * BLOCK); // what the volume's readahead asks
                }
            }
            ReadCacheStats s = f.cache.stats();
            assertEquals((long) BLOCKS * BLOCK, f.store.stats().bytesGot.sum() - bytes, "every block fetched exactly once: " + s);
            // Reads 0-1 and 2-3 are the reader's own GETs; 4..63 come in 15 readahead GETs of 4 blocks.
            assertEquals(2 + 15, f.dataGets() - gets, "GETs: " + s);
            assertEquals(BLOCKS - 4, s.readaheadBlocks.sum());
            f.cache.awaitFills();
            assertEquals(BLOCKS, f.cache.cachedBlocks(), "readahead blocks are filled like misses");
        }
    }

    @Test
    void aReaderBehindTheReadaheadTakesItsBlocksFromTheHeldRunsNotTheCacheFile() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, BLOCKS * BLOCK);
            f.open(config(f.cacheDir()));
            f.warmHeader(1);
            f.reader.prefetch(1, CacheFixture.EPOCH, 0, 16L * BLOCK); // 4 runs of 4 blocks: within what is held
            awaitFilled(f, 16);
            long gets = f.dataGets();
            for (int b = 0; b < 16; b += 2) {
                f.readAndCheck(1, (long) b * BLOCK, 2 * BLOCK);
            }
            ReadCacheStats s = f.cache.stats();
            assertEquals(16, s.heldRunHits.sum(), "every block came from memory: " + s);
            assertEquals(16, s.blockHits.sum(), "and counts as a hit: " + s);
            assertEquals(gets, f.dataGets(), "no GET: " + s);
        }
    }

    @Test
    void heldRunsAreBoundedAndABlockOfAReleasedRunReadsFromTheCache() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, BLOCKS * BLOCK);
            f.open(config(f.cacheDir()));
            f.warmHeader(1);
            // 16 runs of 4 blocks; at most 2 x 4 runs are held after their fills, the others were released.
            f.reader.prefetch(1, CacheFixture.EPOCH, 0, (long) BLOCKS * BLOCK);
            awaitFilled(f, BLOCKS);
            long gets = f.dataGets();
            for (int b = 0; b < BLOCKS; b += 2) {
                f.readAndCheck(1, (long) b * BLOCK, 2 * BLOCK);
            }
            ReadCacheStats s = f.cache.stats();
            assertEquals(8L * 4, s.heldRunHits.sum(), "the 8 runs still held: " + s);
            assertEquals(BLOCKS, s.blockHits.sum(), "the rest from the cache file: " + s);
            assertEquals(gets, f.dataGets(), "no GET: " + s);
        }
    }

    /**
     * Readahead runs are filled into the cache straight from their GET buffers, and the fill of a
     * short last block rounds its write up to a whole page in that buffer: the readers of the held
     * run and, after a restart, the readers of the cache file get exactly the object's bytes.
     */
    @Test
    void aReadaheadRunEndingInAShortBlockIsFilledFromItsGetBufferAndReadsBackExactly() throws Exception {
        int size = 10 * BLOCK + 4608; // the last block: one page and a part of one
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, size);
            f.open(config(f.cacheDir()));
            f.warmHeader(1);
            f.reader.prefetch(1, CacheFixture.EPOCH, 0, size); // runs of blocks 0-3, 4-7, 8-10
            awaitFilled(f, 11);
            f.readAndCheck(1, 0, size);
            assertEquals(11, f.cache.stats().heldRunHits.sum(), "read from the held runs: " + f.cache.stats());
            f.closeCache();
            f.open(config(f.cacheDir()));
            f.warmHeader(1);
            long gets = f.dataGets();
            f.readAndCheck(1, 0, size);
            ReadCacheStats s = f.cache.stats();
            assertEquals(11, s.blockHits.sum(), "every block from the cache file: " + s);
            assertEquals(0, s.corruptBlocks.sum(), "no block failed its check: " + s);
            assertEquals(gets, f.dataGets(), "no GET: " + s);
        }
    }

    /** Waits until the readahead's GETs are done and {@code blocks} blocks are filled (and their runs held). */
    private static void awaitFilled(CacheFixture f, int blocks) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (f.cache.cachedBlocks() < blocks) {
            assertTrue(System.nanoTime() < deadline, "readahead fills did not finish: " + f.cache.stats());
            Thread.sleep(1);
        }
        f.cache.awaitFills(); // every fill is submitted by now: this waits for the last ones to hold their runs
    }

    @RepeatedTest(3)
    void concurrentReadersAndPrefetchesOfOneObjectFetchEachBlockOnce() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, BLOCKS * BLOCK);
            f.open(config(f.cacheDir()));
            f.warmHeader(1);
            long bytes = f.store.stats().bytesGot.sum();
            CacheFixture.concurrently(4, t -> {
                int readBlocks = 1 + t; // different strides: the readers overtake each other
                for (int b = 0; b < BLOCKS; b += readBlocks) {
                    int n = Math.min(readBlocks, BLOCKS - b);
                    // Each reader also prefetches a window ahead of itself, racing the others' GETs.
                    f.reader.prefetch(1, CacheFixture.EPOCH, (long) (b + n) * BLOCK, 16L * BLOCK);
                    f.readAndCheck(1, (long) b * BLOCK, n * BLOCK);
                }
            });
            assertEquals((long) BLOCKS * BLOCK, f.store.stats().bytesGot.sum() - bytes,
                    "every block fetched exactly once: " + f.cache.stats());
        }
    }

    @Test
    void aCorruptBlockInAReadaheadRangeIsNeverReturnedNorCached() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, BLOCKS * BLOCK);
            f.open(config(f.cacheDir()));
            int bad = 21; // inside the readahead GET of blocks 20-23
            int headerBytes = f.reader.header(1, CacheFixture.EPOCH).headerBytes;
            try (FileChannel ch = FileChannel.open(f.dir.resolve("bucket").resolve(f.keys.object(1, CacheFixture.EPOCH)),
                    StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long at = headerBytes + (long) bad * BLOCK + 1000;
                ByteBuffer one = ByteBuffer.allocate(1);
                ch.read(one, at);
                one.put(0, (byte) ~one.get(0)).position(0);
                ch.write(one, at);
            }
            int failed = 0;
            f.reader.prefetch(1, CacheFixture.EPOCH, 4L * BLOCK, (BLOCKS - 4L) * BLOCK);
            for (int b = 0; b < BLOCKS; b += 2) {
                if (b / 2 == bad / 2) {
                    int first = b;
                    IOException e = assertThrows(IOException.class, () -> f.readAndCheck(1, (long) first * BLOCK, 2 * BLOCK));
                    assertTrue(e.getMessage().contains("block " + bad), e.getMessage());
                    failed++;
                } else {
                    f.readAndCheck(1, (long) b * BLOCK, 2 * BLOCK); // the good blocks of the failed GET included
                }
            }
            assertEquals(1, failed);
            f.cache.awaitFills();
            assertNull(f.cache.locate(f.key(1, bad)), "the corrupt block was not cached");
            f.readAndCheck(1, (long) (bad - 1) * BLOCK, 4096); // its good neighbour still reads
            assertThrows(IOException.class, () -> f.readAndCheck(1, (long) bad * BLOCK, 4096), "and it never reads");
        }
    }

    @Test
    void aReaderThatJoinedAFailedReadaheadReadsTheBlockItself() throws Exception {
        Path dir = tmp.resolve("cache");
        byte[] data = new byte[BLOCKS * BLOCK];
        for (int i = 0; i < data.length; i++) {
            data[i] = CacheFixture.expected(7, i);
        }
        int[] crcs = new int[BLOCKS];
        for (int b = 0; b < BLOCKS; b++) {
            crcs[b] = Crc32c.of(data, b * BLOCK, BLOCK);
        }
        CachedObject obj = new CachedObject(1, 2, 7, 1, data.length, crcs, "test/object-7");
        AtomicReference<Thread> reader = new AtomicReference<>();
        AtomicBoolean failedOnce = new AtomicBoolean();
        List<String> fetches = java.util.Collections.synchronizedList(new ArrayList<>());
        BlockSource source = (o, first, count, dst, pageCrcs) -> {
            fetches.add(first + "+" + count);
            if (first == 4 && failedOnce.compareAndSet(false, true)) {
                // The readahead GET of blocks 4-7: wait until the reader has joined it, then fail.
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (reader.get() == null || reader.get().getState() != Thread.State.WAITING) {
                    if (System.nanoTime() > deadline) {
                        break;
                    }
                    Thread.onSpinWait();
                }
                throw new IOException("injected GET failure");
            }
            dst.clear();
            dst.put(data, first * BLOCK, dst.remaining());
            return true;
        };
        try (ReadCache cache = ReadCache.open(config(dir))) {
            ByteBuffer dst = ByteBuffer.allocate(2 * BLOCK);
            cache.read(obj, 0, dst.clear(), 2 * BLOCK, source);
            cache.read(obj, 2L * BLOCK, dst.clear(), 2 * BLOCK, source);
            cache.prefetch(obj, 4L * BLOCK, 16L * BLOCK, source); // claims 4-7, 8-11, ... in this thread
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = Thread.ofPlatform().unstarted(() -> {
                try {
                    ByteBuffer mine = ByteBuffer.allocate(2 * BLOCK);
                    cache.read(obj, 4L * BLOCK, mine, 2 * BLOCK, source);
                    byte[] got = new byte[2 * BLOCK];
                    mine.flip().get(got);
                    assertArrayEquals(java.util.Arrays.copyOfRange(data, 4 * BLOCK, 6 * BLOCK), got);
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            reader.set(t);
            t.start();
            t.join();
            if (failure.get() != null) {
                throw new AssertionError("the read failed with the readahead's error: " + fetches, failure.get());
            }
            assertTrue(failedOnce.get());
            assertTrue(fetches.contains("4+2"), "the reader fetched blocks 4-5 itself: " + fetches);
        }
    }

    @Test
    void aReaderThatJoinedAnInterruptedLeaderReadsTheBlockItself() throws Exception {
        // The engine-wide cache outlives a volume: a closing volume's GC, interrupted in its GET,
        // may lead a flight that a reader of the reopened volume joined. Its interruption is not
        // the joiner's error.
        Path dir = tmp.resolve("cache");
        byte[] data = new byte[8 * BLOCK];
        for (int i = 0; i < data.length; i++) {
            data[i] = CacheFixture.expected(9, i);
        }
        int[] crcs = new int[8];
        for (int b = 0; b < 8; b++) {
            crcs[b] = Crc32c.of(data, b * BLOCK, BLOCK);
        }
        CachedObject obj = new CachedObject(1, 2, 9, 1, data.length, crcs, "test/object-9");
        AtomicReference<Thread> joiner = new AtomicReference<>();
        AtomicBoolean interruptedOnce = new AtomicBoolean();
        BlockSource source = (o, first, count, dst, pageCrcs) -> {
            if (interruptedOnce.compareAndSet(false, true)) {
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (joiner.get() == null || joiner.get().getState() != Thread.State.WAITING) {
                    if (System.nanoTime() > deadline) {
                        break;
                    }
                    Thread.onSpinWait();
                }
                throw new java.nio.channels.ClosedByInterruptException();
            }
            dst.clear();
            dst.put(data, first * BLOCK, dst.remaining());
            return true;
        };
        try (ReadCache cache = ReadCache.open(config(dir).withReadahead(0, 1))) {
            AtomicReference<Throwable> leaderFailure = new AtomicReference<>();
            Thread leader = Thread.ofPlatform().start(() -> {
                try {
                    cache.read(obj, 0, ByteBuffer.allocate(2 * BLOCK), 2 * BLOCK, source);
                } catch (Throwable e) {
                    leaderFailure.set(e);
                }
            });
            while (interruptedOnce.get() == false) {
                Thread.onSpinWait(); // the leader is in its GET, its flights registered
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = Thread.ofPlatform().unstarted(() -> {
                try {
                    ByteBuffer mine = ByteBuffer.allocate(2 * BLOCK);
                    cache.read(obj, 0, mine, 2 * BLOCK, source);
                    byte[] got = new byte[2 * BLOCK];
                    mine.flip().get(got);
                    assertArrayEquals(java.util.Arrays.copyOfRange(data, 0, 2 * BLOCK), got);
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            joiner.set(t);
            t.start();
            t.join();
            leader.join();
            if (failure.get() != null) {
                throw new AssertionError("the joiner failed with its leader's interruption", failure.get());
            }
            assertTrue(leaderFailure.get() instanceof java.nio.channels.ClosedByInterruptException,
                    "the leader itself sees its own error: " + leaderFailure.get());
        }
    }
}
