package dev.strata.engine.volume;

import static dev.strata.engine.volume.FilledBlocks.block;
import static dev.strata.engine.volume.FilledBlocks.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.readcache.ReadCache;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's read cache directory deleted under a running engine (docs/read-cache.md, "When the
 * index cannot be written"): writes, flushes and reads go on and stay correct, the engine closes
 * without an error (the cache's lost index is only logged), and a restart starts with an empty
 * cache and reads every block back from the bucket.
 */
class ADeletedCacheDirectoryNeverFailsTheEngineTest {
    @TempDir
    Path tmp;

    @Test
    void writesReadsAndCloseGoOnAndARestartReadsEverythingBack() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        Path local = tmp.resolve("node");
        VolumeOptions opts = VolumeOptions.defaults();
        int blocks = 64;
        StrataEngine engine = new StrataEngine(store, local, "node");
        engine.createVolume("v", 1 << 20);
        LogStructuredVolume v = engine.openForWrite("v", opts, false);
        for (int i = 0; i < blocks / 2; i++) {
            v.write(i * 4096L, block(i + 1), false);
        }
        v.flushToBucket();
        ReadCache cache = engine.readCache(opts);
        assertTrue(cache != null && Files.isDirectory(local.resolve("cache")), "the engine has a read cache");

        deleteTree(local.resolve("cache"));

        for (int i = blocks / 2; i < blocks; i++) {
            v.write(i * 4096L, block(i + 1), false);
        }
        v.flushToBucket();
        for (int i = 0; i < blocks; i++) {
            assertArrayEquals(block(i + 1).array(), read(v, i * 4096L), "block " + i + " with the cache directory gone");
        }
        v.close();
        assertDoesNotThrow(engine::close, "the engine closes although its cache could not write its index");

        StrataEngine again = new StrataEngine(new LocalDirectoryObjectStore(tmp.resolve("bucket")), local, "node"); // the engine closed its store
        try (LogStructuredVolume ro = again.openReadOnly("v", opts)) {
            assertEquals(0, again.readCache(opts).cachedBlocks(), "the new cache starts empty");
            for (int i = 0; i < blocks; i++) {
                assertArrayEquals(block(i + 1).array(), read(ro, i * 4096L), "block " + i + " after the restart");
            }
        } finally {
            again.close();
        }
    }

    /** Deletes {@code p} as a script would while the cache may still be keeping a header in it (files come and go meanwhile). */
    private static void deleteTree(Path p) throws Exception {
        for (int attempt = 0; Files.exists(p); attempt++) {
            try (Stream<Path> s = Files.walk(p)) {
                for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(q);
                }
            } catch (java.io.UncheckedIOException | java.nio.file.NoSuchFileException | java.nio.file.DirectoryNotEmptyException e) {
                if (attempt == 100) {
                    throw e;
                }
            }
        }
    }
}
