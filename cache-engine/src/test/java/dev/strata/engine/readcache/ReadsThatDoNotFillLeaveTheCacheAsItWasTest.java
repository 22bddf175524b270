package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ReadCache#readWithoutFilling} (GC's reads of objects about to die, docs/read-cache.md
 * "Reads that do not fill"): what it fetches is returned but never filled into the cache, and
 * what is cached it still reads from the cache.
 */
class ReadsThatDoNotFillLeaveTheCacheAsItWasTest {
    static final int BLOCK = CacheFixture.BLOCK;

    @TempDir
    Path tmp;

    private static void readWithoutFillingAndCheck(CacheFixture f, long seq, long offset, int length) throws Exception {
        ByteBuffer dst = ByteBuffer.allocate(length);
        f.reader.readWithoutFilling(seq, CacheFixture.EPOCH, offset, dst, length);
        assertEquals(length, dst.position());
        for (int i = 0; i < length; i++) {
            assertEquals(CacheFixture.expected(seq, offset + i), dst.get(i), "byte " + (offset + i));
        }
    }

    /** Object 1 of four blocks in the bucket, an empty cache of 64 slots without readahead, the object's header known. */
    private static void openWithAFourBlockObject(CacheFixture f) throws Exception {
        f.writeObject(1, 4 * BLOCK);
        f.open(CacheFixture.config(f.cacheDir(), 64L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU).withReadahead(0, 16));
        f.warmHeader(1);
    }

    @Test
    void missesAreFetchedAndReturnedButNotFilled() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            openWithAFourBlockObject(f);
            long gets = f.dataGets();
            readWithoutFillingAndCheck(f, 1, 1000, 3 * BLOCK);
            f.cache.awaitFills();
            assertEquals(gets + 1, f.dataGets(), "one GET for the four blocks");
            assertEquals(4, f.cache.stats().fetchedNotFilled.sum());
            assertEquals(0, f.cache.stats().fills.sum());
            assertEquals(0, f.cache.cachedBlocks(), "nothing filled");
        }
    }

    @Test
    void cachedBlocksAreStillReadFromTheCache() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            openWithAFourBlockObject(f);
            f.readAndCheck(1, 0, 2 * BLOCK); // an ordinary read: blocks 0 and 1 are filled
            f.cache.awaitFills();
            assertEquals(2, f.cache.cachedBlocks());
            long gets = f.dataGets();

            readWithoutFillingAndCheck(f, 1, 0, 4 * BLOCK);
            f.cache.awaitFills();
            assertEquals(2, f.cache.stats().blockHits.sum(), "blocks 0 and 1 from the cache");
            assertEquals(gets + 1, f.dataGets(), "one GET for blocks 2 and 3");
            assertEquals(2, f.cache.stats().fetchedNotFilled.sum());
            assertEquals(2, f.cache.cachedBlocks(), "blocks 2 and 3 not filled");
        }
    }
}
