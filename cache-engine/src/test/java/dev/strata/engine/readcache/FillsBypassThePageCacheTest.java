package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.util.DirectIoMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fills are written with O_DIRECT (docs/read-cache.md, "Fills") while hits are read through the
 * page cache: what a direct fill wrote reads back whole, a tail block shorter than a page is
 * padded with zeros inside its slot, a slot refilled after its old bytes were read into the page
 * cache returns the new bytes (the kernel drops the stale pages), and where O_DIRECT cannot be used
 * the mode decides: AUTO falls back to the page cache, ON refuses to open.
 */
class FillsBypassThePageCacheTest {
    static final int BLOCK = CacheFixture.BLOCK;
    /** Two whole blocks and a tail of 5 KiB: not a whole number of pages. */
    static final int OBJECT_BYTES = 2 * BLOCK + 5 * 1024;

    @TempDir
    Path tmp;

    @BeforeEach
    void needsODirect() {
        boolean works = DirectIoMode.supportedIn(tmp);
        if (!works) {
            System.err.println("SKIPPED FillsBypassThePageCacheTest: the filesystem of " + tmp + " refuses O_DIRECT");
        }
        Assumptions.assumeTrue(works, "the filesystem of " + tmp + " refuses O_DIRECT");
    }

    private static ReadCacheConfig config(CacheFixture f, long slots, EvictionPolicy.Kind policy, DirectIoMode io) {
        return CacheFixture.config(f.cacheDir(), slots * BLOCK, 1, policy).withReadahead(0, 16).withFillIo(io);
    }

    @Test
    void directFillsReadBackWholeAfterARestartAndTheTailsPaddingIsZero() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, OBJECT_BYTES);
            ReadCacheConfig c = config(f, 16, EvictionPolicy.Kind.TINY_LFU, DirectIoMode.ON);
            f.open(c);
            assertTrue(f.cache.directFills());
            f.readAndCheck(1, 0, OBJECT_BYTES);
            f.cache.awaitFills();
            assertEquals(3, f.cache.stats().fills.sum());
            f.closeCache();

            f.open(c);
            f.warmHeader(1);
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
    void aSlotRefilledAfterItsOldBytesWereReadIsNotServedFromStalePages() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 2 * BLOCK);
            f.writeObject(2, 2 * BLOCK);
            f.open(config(f, 2, EvictionPolicy.Kind.LRU, DirectIoMode.ON));
            f.readAndCheck(1, 0, 2 * BLOCK);
            f.cache.awaitFills();
            f.readAndCheck(1, 0, 2 * BLOCK); // hits: object 1's bytes are now in the page cache
            assertEquals(2, f.cache.stats().blockHits.sum());

            f.readAndCheck(2, 0, 2 * BLOCK); // evicts object 1, refills both slots with O_DIRECT
            f.cache.awaitFills();
            assertNotNull(f.cache.locate(f.key(2, 0)));
            long gets = f.dataGets();
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
        try (ReadCache auto = ReadCache.open(odd.withFillIo(DirectIoMode.AUTO))) {
            assertFalse(auto.directFills());
        }
    }

    @Test
    void fillsThroughThePageCacheWhenTurnedOff() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, OBJECT_BYTES);
            f.open(config(f, 16, EvictionPolicy.Kind.TINY_LFU, DirectIoMode.OFF));
            assertFalse(f.cache.directFills());
            f.readAndCheck(1, 0, OBJECT_BYTES);
            f.cache.awaitFills();
            long gets = f.dataGets();
            f.readAndCheck(1, 0, OBJECT_BYTES);
            assertEquals(gets, f.dataGets(), "filled through the page cache and hit");
        }
    }
}
