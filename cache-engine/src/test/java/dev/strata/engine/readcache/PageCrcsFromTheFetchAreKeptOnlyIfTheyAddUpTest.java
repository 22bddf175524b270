package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.engine.util.Crc32c;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fetch hands the fill the page CRCs it computed while checking the blocks against their
 * header CRCs, so fetched bytes are checksummed once (docs/read-cache.md, "Page CRCs come with the
 * fetch"). The fill keeps them only where they add up to the block's header CRC: page CRCs that
 * are wrong, or missing, are computed again from the bytes, so the cache never keeps a page CRC
 * that would fail its own block on the next hit. Either way the blocks are later hits, read back
 * right, with no corrupt block and no second GET.
 */
class PageCrcsFromTheFetchAreKeptOnlyIfTheyAddUpTest {
    private static final int BLOCK = CacheFixture.BLOCK;
    private static final int BLOCKS = 8;
    /** The last block is short and ends inside a page: its pages past the end hold no CRC. */
    private static final int DATA_BYTES = BLOCKS * BLOCK - 3 * 4096 - 512;

    @TempDir
    Path tmp;

    enum Handover {
        RIGHT, WRONG, NONE
    }

    @Test
    void rightPageCrcsAreKept() throws Exception {
        readTwice(Handover.RIGHT);
    }

    @Test
    void wrongPageCrcsAreComputedAgain() throws Exception {
        readTwice(Handover.WRONG);
    }

    @Test
    void missingPageCrcsAreComputed() throws Exception {
        readTwice(Handover.NONE);
    }

    private void readTwice(Handover handover) throws Exception {
        byte[] data = new byte[DATA_BYTES];
        for (int i = 0; i < data.length; i++) {
            data[i] = CacheFixture.expected(3, i);
        }
        int[] crcs = new int[BLOCKS];
        for (int b = 0; b < BLOCKS; b++) {
            crcs[b] = Crc32c.of(data, b * BLOCK, Math.min(BLOCK, DATA_BYTES - b * BLOCK));
        }
        CachedObject obj = new CachedObject(1, 2, 3, 1, DATA_BYTES, crcs, "test/object-3");
        AtomicInteger gets = new AtomicInteger();
        BlockSource source = (o, first, count, dst, pageCrcs) -> {
            gets.incrementAndGet();
            dst.clear();
            dst.put(data, first * BLOCK, dst.remaining());
            if (pageCrcs != null) {
                for (int k = 0; k < count; k++) {
                    int from = k * BLOCK;
                    int to = Math.min(dst.limit(), from + BLOCK);
                    switch (handover) {
                        case RIGHT -> Crc32c.ofPages(dst, from, to, pageCrcs, k * (BLOCK / Crc32c.PAGE));
                        case WRONG -> Arrays.fill(pageCrcs, k * (BLOCK / Crc32c.PAGE), (k + 1) * (BLOCK / Crc32c.PAGE), 0x5eed);
                        case NONE -> { }
                    }
                }
            }
            return true;
        };
        ReadCacheConfig config = CacheFixture.config(tmp.resolve("cache"), 64L * BLOCK, 1, EvictionPolicy.Kind.LRU).withReadahead(0, 1);
        try (ReadCache cache = ReadCache.open(config)) {
            ByteBuffer dst = ByteBuffer.allocate(DATA_BYTES);
            cache.read(obj, 0, dst, DATA_BYTES, source); // a miss: one GET, then the fill
            cache.awaitFills();
            assertEquals(BLOCKS, cache.cachedBlocks());
            ReadCacheStats s = cache.stats();
            long hits = s.blockHits.sum();
            for (int at = 0; at < DATA_BYTES; at += 4096) { // page by page: every page CRC is checked
                int len = Math.min(4096, DATA_BYTES - at);
                ByteBuffer page = ByteBuffer.allocate(len);
                cache.read(obj, at, page, len, source);
                assertArrayEquals(Arrays.copyOfRange(data, at, at + len), page.array(), "bytes at " + at);
            }
            assertEquals(0, s.corruptBlocks.sum(), "no kept page CRC fails its block: " + s);
            assertEquals(1, gets.get(), "every later read was a hit: " + s);
            assertEquals((DATA_BYTES + 4095) / 4096, s.blockHits.sum() - hits, s.toString());
            assertEquals(0, s.fillFailures.sum(), s.toString());
        }
    }
}
