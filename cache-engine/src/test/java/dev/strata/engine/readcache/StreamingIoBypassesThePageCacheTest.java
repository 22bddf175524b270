package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.util.DirectIoMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streaming I/O on the cache files — readahead fills and reads of whole blocks — uses O_DIRECT;
 * the rest goes through the page cache (docs/read-cache.md, "Streaming I/O bypasses the page
 * cache"). What a direct fill wrote reads back whole and a tail block shorter than a page is padded
 * with zeros inside its slot; which pages of the cache file are in the page cache afterwards (asked
 * of the kernel with mincore(2), through {@link MappedByteBuffer#isLoaded}) shows which path each
 * fill and read took; whole-block hits land straight in a page-aligned reader's buffer and go
 * through a bounce buffer otherwise; a refilled slot returns its new bytes; and where O_DIRECT
 * cannot be used the mode decides: AUTO falls back to the page cache, ON refuses to open.
 */
class StreamingIoBypassesThePageCacheTest {
    static final int BLOCK = CacheFixture.BLOCK;
    static final int PAGES = BLOCK / CacheShard.PAGE;
    /** Two whole blocks and a tail of 5 KiB: not a whole number of pages. */
    static final int OBJECT_BYTES = 2 * BLOCK + 5 * 1024;

    @TempDir
    Path tmp;

    @BeforeEach
    void needsODirect() {
        boolean works = DirectIoMode.supportedIn(tmp);
        if (!works) {
            System.err.println("SKIPPED StreamingIoBypassesThePageCacheTest: the filesystem of " + tmp + " refuses O_DIRECT");
        }
        Assumptions.assumeTrue(works, "the filesystem of " + tmp + " refuses O_DIRECT");
    }

    private static ReadCacheConfig config(CacheFixture f, long slots, EvictionPolicy.Kind policy, DirectIoMode io) {
        return CacheFixture.config(f.cacheDir(), slots * BLOCK, 1, policy).withReadahead(4, 16).withDirectIo(io);
    }

    /**
     * Readahead of the whole of object {@code seq}, waiting until its {@code blocks} blocks are
     * cached; then the cache is restarted with {@code c}, so that reads find the blocks in the
     * cache files rather than in the readahead's runs, which stay in memory for a while ("Held runs").
     */
    private static void readAhead(CacheFixture f, ReadCacheConfig c, long seq, int bytes, int blocks) throws Exception {
        f.reader.prefetch(seq, CacheFixture.EPOCH, 0, bytes);
        long deadline = System.nanoTime() + 10_000_000_000L;
        for (int b = 0; b < blocks; b++) {
            while (f.cache.locate(f.key(seq, b)) == null) {
                assertTrue(System.nanoTime() < deadline, "readahead filled block " + b + " within 10 s");
                Thread.sleep(5);
            }
        }
        f.closeCache();
        f.open(c);
        f.warmHeader(seq);
    }

    /** Object 1 of {@code bytes} in a cache of 16 slots with O_DIRECT ON, filled by a readahead, the cache restarted. */
    private static void readAheadObjectOne(CacheFixture f, int bytes, int blocks) throws Exception {
        f.writeObject(1, bytes);
        ReadCacheConfig c = config(f, 16, EvictionPolicy.Kind.TINY_LFU, DirectIoMode.ON);
        f.open(c);
        readAhead(f, c, 1, bytes, blocks);
    }

    /** Pages of block {@code b} of object {@code seq}'s slot that are in the page cache (mincore). */
    private static int residentPages(CacheFixture f, long seq, int b) throws IOException {
        ReadCache.SlotLocation slot = f.cache.locate(f.key(seq, b));
        assertNotNull(slot, "block " + b + " is cached");
        int resident = 0;
        try (FileChannel ch = FileChannel.open(slot.file(), StandardOpenOption.READ)) {
            MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, slot.offset(), BLOCK);
            for (int p = 0; p < BLOCK; p += CacheShard.PAGE) {
                if (m.slice(p, CacheShard.PAGE).isLoaded()) {
                    resident++;
                }
            }
        }
        return resident;
    }

    @Test
    void readaheadFillsAreDirectReadBackWholeAfterARestartAndTheTailsPaddingIsZero() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            readAheadObjectOne(f, OBJECT_BYTES, 3);
            assertTrue(f.cache.bypassesPageCache());
            for (int b = 0; b < 3; b++) {
                assertEquals(0, residentPages(f, 1, b), "pages of readahead-filled block " + b + " in the page cache");
            }
            long gets = f.dataGets();
            f.readAndCheck(1, 0, OBJECT_BYTES);
            assertEquals(gets, f.dataGets(), "every block came from the cache");
            assertEquals(0, f.cache.stats().corruptBlocks.sum());

            ReadCache.SlotLocation tail = f.cache.locate(f.key(1, 2));
            assertNotNull(tail);
            ByteBuffer pad = ByteBuffer.allocate(3 * 1024);
            try (FileChannel ch = FileChannel.open(tail.file(), StandardOpenOption.READ)) {
                ch.read(pad, tail.offset() + 5 * 1024);
            }
            for (int i = 0; i < pad.capacity(); i++) {
                assertEquals(0, pad.get(i), "padding byte " + i + " after the tail block's 5 KiB");
            }
        }
    }

    @Test
    void wholeBlockHitsAreReadDirectAndPartsOfBlocksThroughThePageCache() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            readAheadObjectOne(f, 4 * BLOCK, 4);
            f.readAndCheck(1, 0, 2 * BLOCK); // blocks 0 and 1 whole
            f.readAndCheck(1, 2 * BLOCK + 4096, 8192); // pages 1 and 2 of block 2
            assertEquals(3, f.cache.stats().blockHits.sum());
            assertEquals(0, residentPages(f, 1, 0), "block 0, read whole");
            assertEquals(0, residentPages(f, 1, 1), "block 1, read whole");
            assertEquals(2, residentPages(f, 1, 2), "block 2: the two pages read");
            assertEquals(0, residentPages(f, 1, 3), "block 3, never read");
        }
    }

    @Test
    void fillsOfSmallMissesAndSmallWritesGoThroughThePageCacheAndOfLargeOnesDoNot() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 2 * BLOCK);
            f.open(config(f, 128, EvictionPolicy.Kind.TINY_LFU, DirectIoMode.ON)); // room for all 19 blocks
            f.readAndCheck(1, 4096, 4096); // a reader's own miss: block 0 is fetched and filled
            f.writeObjectAndFillUploaded(2, 2 * BLOCK, 4096); // small random writes
            f.writeObjectAndFillUploaded(4, 2 * BLOCK, 2 * BLOCK); // one large write
            f.writeObject(3, 16 * BLOCK);
            f.readAndCheck(3, 0, 16 * BLOCK); // a miss as large as a readahead GET: streamed
            f.cache.awaitFills();
            assertEquals(PAGES, residentPages(f, 1, 0), "a random miss's fill is in the page cache");
            assertEquals(0, residentPages(f, 3, 0), "a 1 MiB miss's fill is not");
            assertEquals(0, residentPages(f, 3, 15), "a 1 MiB miss's fill is not");
            assertEquals(PAGES, residentPages(f, 2, 0), "the fill of an upload of small writes is in the page cache");
            assertEquals(PAGES, residentPages(f, 2, 1), "the fill of an upload of small writes is in the page cache");
            assertEquals(0, residentPages(f, 4, 0), "the fill of an upload of a large write is not");
            assertEquals(0, residentPages(f, 4, 1), "the fill of an upload of a large write is not");
            f.readAndCheck(2, 0, 2 * BLOCK);
            f.readAndCheck(4, 0, 2 * BLOCK);
            assertEquals(4, f.cache.stats().blockHits.sum(), "both uploads read back from the cache");
        }
    }

    @Test
    void turnedOffEverythingGoesThroughThePageCache() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 4 * BLOCK);
            ReadCacheConfig c = config(f, 16, EvictionPolicy.Kind.TINY_LFU, DirectIoMode.OFF);
            f.open(c);
            assertFalse(f.cache.bypassesPageCache());
            readAhead(f, c, 1, 4 * BLOCK, 4);
            long gets = f.dataGets();
            f.readAndCheck(1, 0, 4 * BLOCK);
            assertEquals(gets, f.dataGets(), "filled through the page cache and hit");
            for (int b = 0; b < 4; b++) {
                assertEquals(PAGES, residentPages(f, 1, b), "block " + b + " (the probe sees cached pages)");
            }
        }
    }

    @Test
    void wholeBlockHitsLandStraightInAPageAlignedBufferAndGoThroughABounceBufferOtherwise() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            readAheadObjectOne(f, OBJECT_BYTES, 3);
            ByteBuffer aligned = ByteBuffer.allocateDirect(2 * OBJECT_BYTES + CacheShard.PAGE).alignedSlice(CacheShard.PAGE);
            long gets = f.dataGets();

            f.readAndCheck(1, 0, 2 * BLOCK, aligned.clear()); // two whole blocks: one pread into the buffer
            assertEquals(1, f.cache.stats().fileReads.sum());
            f.readAndCheck(1, 4096, 8192, aligned.clear()); // part of a block: through the page cache
            assertEquals(0, f.cache.stats().fileReadsBounced.sum(), "nothing bounced");

            f.readAndCheck(1, 0, 2 * BLOCK, aligned.clear().position(512)); // not on a page boundary
            f.readAndCheck(1, 0, OBJECT_BYTES, aligned.clear()); // the tail's read, rounded up to a page, has no room in the reader's buffer
            f.readAndCheck(1, 0, 2 * BLOCK); // a heap buffer
            assertEquals(3, f.cache.stats().fileReadsBounced.sum());
            assertEquals(gets, f.dataGets(), "every read was a hit");
            assertEquals(0, f.cache.stats().corruptBlocks.sum());
        }
    }

    @Test
    void aSlotRefilledAfterItsOldBytesWereReadReturnsTheNewBytes() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 2 * BLOCK);
            f.writeObject(2, 2 * BLOCK);
            ReadCacheConfig c = config(f, 2, EvictionPolicy.Kind.LRU, DirectIoMode.ON);
            f.open(c);
            f.readAndCheck(1, 0, 2 * BLOCK); // a miss: filled through the page cache
            f.cache.awaitFills();
            f.readAndCheck(1, 4096, 2 * BLOCK - 8192); // hits, parts of both blocks: their pages are cached now
            assertEquals(2, f.cache.stats().blockHits.sum());

            readAhead(f, c, 2, 2 * BLOCK, 2); // evicts object 1, refills both slots with O_DIRECT
            long gets = f.dataGets();
            f.readAndCheck(2, 4096, 2 * BLOCK - 8192); // through the page cache, where object 1's pages were
            f.readAndCheck(2, 0, 2 * BLOCK);
            assertEquals(gets, f.dataGets(), "object 2 came from the cache");
            assertEquals(4, f.cache.stats().blockHits.sum());
            assertEquals(0, f.cache.stats().corruptBlocks.sum(), "no stale page of object 1 was read");
        }
    }

    @Test
    void whereODirectCannotBeUsedAutoFallsBackToThePageCacheAndOnRefuses() throws Exception {
        // 62 KiB slots do not start on page boundaries: no O_DIRECT on them.
        ReadCacheConfig odd = new ReadCacheConfig(tmp.resolve("odd"), 32L * 62 * 1024, 1, 62 * 1024, 16, EvictionPolicy.Kind.LRU,
                java.time.Duration.ofSeconds(10), 2, 64, 0, 16, DirectIoMode.ON);
        IOException refused = assertThrows(IOException.class, () -> ReadCache.open(odd));
        assertTrue(refused.getMessage().contains("O_DIRECT"), refused.getMessage());
        try (ReadCache auto = ReadCache.open(odd.withDirectIo(DirectIoMode.AUTO))) {
            assertFalse(auto.bypassesPageCache());
        }
    }
}
