package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A flipped byte in the cache file is caught by the block's CRC32C: correct data comes from the bucket instead. */
class CorruptCacheBlockIsRefetchedTest {
    static final int BLOCK = CacheFixture.BLOCK;

    @TempDir
    Path tmp;

    private static void flipByte(ReadCache.SlotLocation at, long within) throws Exception {
        try (FileChannel ch = FileChannel.open(at.file(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, at.offset() + within);
            one.put(0, (byte) (one.get(0) ^ 0x40)).rewind();
            ch.write(one, at.offset() + within);
        }
    }

    @Test
    void aFlippedByteWhileRunningIsDetectedCountedAndRefetched() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 4 * BLOCK);
            f.open(CacheFixture.config(f.cacheDir(), 16L * BLOCK, 2, EvictionPolicy.Kind.TINY_LFU));
            f.warmHeader(1);
            f.readAndCheck(1, BLOCK, BLOCK);
            f.cache.awaitFills();
            ReadCache.SlotLocation at = f.cache.locate(f.key(1, 1));
            assertNotNull(at, "block 1 is cached");
            flipByte(at, 12345);
            long gets = f.dataGets();
            f.readAndCheck(1, BLOCK + 12000, 1000);
            assertEquals(1, f.cache.stats().corruptBlocks.sum(), "the bad block was counted");
            assertEquals(gets + 1, f.dataGets(), "and fetched from the bucket");
            f.cache.awaitFills();
            f.readAndCheck(1, BLOCK, BLOCK);
            assertEquals(gets + 1, f.dataGets(), "the refilled block hits again");
        }
    }

    @Test
    void aFlippedByteWhileStoppedIsDetectedAfterTheRestart() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 4 * BLOCK);
            ReadCacheConfig c = CacheFixture.config(f.cacheDir(), 16L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU);
            f.open(c);
            f.readAndCheck(1, 0, 4 * BLOCK);
            f.cache.awaitFills();
            ReadCache.SlotLocation at = f.cache.locate(f.key(1, 2));
            f.closeCache();
            flipByte(at, 0);
            f.open(c);
            f.warmHeader(1);
            long gets = f.dataGets();
            f.readAndCheck(1, 0, 4 * BLOCK);
            assertEquals(1, f.cache.stats().corruptBlocks.sum());
            assertEquals(gets + 1, f.dataGets(), "only the bad block is fetched");
            assertEquals(1, f.cache.stats().readsPartialHit.sum());
        }
    }

    @Test
    void aSmallHitReadsAndVerifiesOnlyItsOwnPages() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 2 * BLOCK);
            f.open(CacheFixture.config(f.cacheDir(), 16L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU));
            f.warmHeader(1);
            f.readAndCheck(1, 0, BLOCK);
            f.cache.awaitFills();
            flipByte(f.cache.locate(f.key(1, 0)), 5 * 4096 + 7); // page 5 of block 0
            long gets = f.dataGets();
            f.readAndCheck(1, 4096, 4096); // page 1: its own CRC checks, a hit
            f.readAndCheck(1, 7 * 4096, 8192); // pages 7-8
            assertEquals(gets, f.dataGets(), "pages 1, 7, 8 are intact: hits without GETs");
            assertEquals(0, f.cache.stats().corruptBlocks.sum());
            f.readAndCheck(1, 5 * 4096 + 512, 1024); // inside the bad page
            assertEquals(1, f.cache.stats().corruptBlocks.sum(), "the bad page is caught");
            assertEquals(gets + 1, f.dataGets(), "and the block refetched");
        }
    }
}
