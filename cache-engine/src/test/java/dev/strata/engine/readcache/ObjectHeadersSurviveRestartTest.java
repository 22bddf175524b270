package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Object headers kept on the node ({@link HeaderCache}): a restarted node reads cached objects
 * without a single GET, header included; a damaged, truncated or half-written copy is fetched
 * again and never used; the copies are bounded.
 */
class ObjectHeadersSurviveRestartTest {
    static final int BLOCK = CacheFixture.BLOCK;

    @TempDir
    Path tmp;

    private static ReadCacheConfig config(CacheFixture f) {
        return CacheFixture.config(f.cacheDir(), 64L * BLOCK, 4, EvictionPolicy.Kind.TINY_LFU);
    }

    /** Writes and reads objects 1..n of 4 blocks each, then closes the cache (blocks and headers kept). */
    private static void readOnceAndClose(CacheFixture f, int n) throws Exception {
        for (long seq = 1; seq <= n; seq++) {
            f.writeObject(seq, 4 * BLOCK);
        }
        f.open(config(f));
        for (long seq = 1; seq <= n; seq++) {
            f.readAndCheck(seq, 0, 4 * BLOCK);
        }
        f.cache.awaitFills();
        assertEquals(n, f.cache.keptHeaders());
        f.closeCache();
    }

    private static List<Path> headerFiles(CacheFixture f) throws Exception {
        try (Stream<Path> s = Files.list(f.cacheDir().resolve("headers"))) {
            return s.sorted().toList();
        }
    }

    @Test
    void aRestartedNodeReadsCachedObjectsWithoutAnyGet() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            readOnceAndClose(f, 4);
            f.open(config(f)); // a fresh reader too: no header in memory
            long gets = f.dataGets();
            for (long seq = 1; seq <= 4; seq++) {
                f.readAndCheck(seq, 0, 4 * BLOCK);
            }
            assertEquals(gets, f.dataGets(), "no GET, not even for a header: " + f.cache.stats());
            assertEquals(4, f.cache.stats().headerHits.sum());
        }
    }

    @Test
    void aDamagedHeaderCopyIsFetchedAgainAndNeverUsed() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            readOnceAndClose(f, 2);
            Path copy = headerFiles(f).getFirst();
            byte[] bytes = Files.readAllBytes(copy);
            bytes[100] ^= 0x40; // inside the extent table: only the header's CRC32C can tell
            Files.write(copy, bytes);
            f.open(config(f));
            long gets = f.dataGets();
            for (long seq = 1; seq <= 2; seq++) {
                f.readAndCheck(seq, 0, 4 * BLOCK);
            }
            assertEquals(gets + 1, f.dataGets(), "one header GET for the damaged copy, none for the other: " + f.cache.stats());
            f.cache.awaitFills();
            f.closeCache();
            f.open(config(f));
            gets = f.dataGets();
            f.readAndCheck(1, 0, 4 * BLOCK);
            f.readAndCheck(2, 0, 4 * BLOCK);
            assertEquals(gets, f.dataGets(), "the copy was replaced by the fetched header");
        }
    }

    @Test
    void aTruncatedCopyAndAHalfWrittenOneAreHarmless() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            readOnceAndClose(f, 1);
            Path copy = headerFiles(f).getFirst();
            Files.write(copy, java.util.Arrays.copyOf(Files.readAllBytes(copy), 100));
            Path leftover = copy.resolveSibling(copy.getFileName() + ".7.tmp");
            Files.write(leftover, new byte[] {1, 2, 3}); // a crash between write and rename
            f.open(config(f));
            assertFalse(Files.exists(leftover), "a half-written copy is deleted at open");
            long gets = f.dataGets();
            f.readAndCheck(1, 0, 4 * BLOCK);
            assertEquals(gets + 1, f.dataGets(), "the truncated copy is fetched again");
        }
    }

    @Test
    void keptHeadersAreBoundedLeastRecentlyUsedFirst() throws Exception {
        Path dir = tmp.resolve("headers");
        HeaderCache c = HeaderCache.open(dir, 3 * 4096);
        for (int i = 0; i < 3; i++) {
            c.write("h" + i, ByteBuffer.allocate(4096));
        }
        assertTrue(c.read("h0") != null); // h1 is now the least recently used
        c.write("h3", ByteBuffer.allocate(4096));
        assertEquals(3, c.size());
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("h0", "h2", "h3"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        Files.setLastModifiedTime(dir.resolve("h0"), java.nio.file.attribute.FileTime.fromMillis(1_000)); // written long ago
        HeaderCache reopened = HeaderCache.open(dir, 2 * 4096); // a smaller bound at the next open
        assertEquals(2, reopened.size());
        assertFalse(Files.exists(dir.resolve("h0")), "the least recently written copy goes first");
    }
}
