package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The index survives a restart; a lost, deleted or damaged cache only costs GETs. */
class RestartKeepsHitsTest {
    static final int BLOCK = CacheFixture.BLOCK;

    @TempDir
    Path tmp;

    private static void fillAll(CacheFixture f, int objects, int blocks) throws Exception {
        for (long seq = 1; seq <= objects; seq++) {
            f.readAndCheck(seq, 0, blocks * BLOCK);
        }
        f.cache.awaitFills();
    }

    private static ReadCacheConfig config(CacheFixture f) {
        return CacheFixture.config(f.cacheDir(), 64L * BLOCK, 4, EvictionPolicy.Kind.TINY_LFU);
    }

    @Test
    void aReopenedCacheServesEveryBlockWithoutAGet() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            for (long seq = 1; seq <= 4; seq++) {
                f.writeObject(seq, 4 * BLOCK);
            }
            f.open(config(f));
            fillAll(f, 4, 4);
            f.closeCache();

            f.open(config(f));
            for (long seq = 1; seq <= 4; seq++) {
                f.warmHeader(seq);
            }
            long gets = f.dataGets();
            for (long seq = 1; seq <= 4; seq++) {
                for (int b = 0; b < 4; b++) {
                    f.readAndCheck(seq, (long) b * BLOCK + 512, 4096);
                }
            }
            assertEquals(gets, f.dataGets(), "every read hit after the restart: " + f.cache.stats());
            assertEquals(16, f.cache.stats().readsFullHit.sum());
        }
    }

    @Test
    void aDeletedCacheDirectoryStartsEmptyAndReadsStayCorrect() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            for (long seq = 1; seq <= 2; seq++) {
                f.writeObject(seq, 4 * BLOCK);
            }
            f.open(config(f));
            fillAll(f, 2, 4);
            f.closeCache();
            try (Stream<Path> s = Files.walk(f.cacheDir())) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
            f.open(config(f));
            assertEquals(0, f.cache.cachedBlocks());
            fillAll(f, 2, 4);
            assertEquals(2, f.cache.stats().readsNoHit.sum());
            fillAll(f, 2, 4);
            assertEquals(2, f.cache.stats().readsFullHit.sum());
        }
    }

    @Test
    void aDamagedIndexFileIsIgnoredAndTheShardStartsEmpty() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 4 * BLOCK);
            ReadCacheConfig oneShard = CacheFixture.config(f.cacheDir(), 16L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU);
            f.open(oneShard);
            fillAll(f, 1, 4);
            f.closeCache();
            Path index = f.cacheDir().resolve("shard-00.index");
            byte[] b = Files.readAllBytes(index);
            b[50] ^= 0x10;
            Files.write(index, b);
            f.open(oneShard);
            assertEquals(0, f.cache.cachedBlocks(), "an index failing its CRC is not used");
            fillAll(f, 1, 4);
        }
    }

    @Test
    void anIndexWrittenForAnotherGeometryIsNotUsed() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 4 * BLOCK);
            f.open(CacheFixture.config(f.cacheDir(), 16L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU));
            fillAll(f, 1, 4);
            f.closeCache();
            f.open(CacheFixture.config(f.cacheDir(), 32L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU));
            assertEquals(0, f.cache.cachedBlocks());
            fillAll(f, 1, 4);
            assertTrue(f.cache.cachedBlocks() > 0);
        }
    }

    @Test
    void aSecondCacheOnTheSameDirectoryIsRefused() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.open(config(f));
            try {
                ReadCache.open(config(f)).close();
                throw new AssertionError("a second cache opened the same directory");
            } catch (ReadCacheLockedException expected) {
                assertTrue(expected.getMessage().contains("lock"), expected.getMessage());
            }
        }
    }
}
