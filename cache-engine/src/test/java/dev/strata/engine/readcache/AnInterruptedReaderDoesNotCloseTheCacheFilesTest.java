package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.engine.util.DirectIoMode;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reader interrupted in a cache file's I/O closes that FileChannel for every thread
 * (ClosedByInterruptException); the shard opens it again, so the readers after it still hit —
 * through the page cache (part of a block) and with O_DIRECT (whole blocks) alike.
 */
class AnInterruptedReaderDoesNotCloseTheCacheFilesTest {
    static final int BLOCK = CacheFixture.BLOCK;

    @TempDir
    Path tmp;

    @Test
    void readersAfterAnInterruptedOneStillHitThroughBothChannels() throws Exception {
        Assumptions.assumeTrue(DirectIoMode.supportedIn(tmp), "the filesystem of " + tmp + " refuses O_DIRECT");
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 8 * BLOCK);
            f.open(CacheFixture.config(f.cacheDir(), 64L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU).withReadahead(0, 16)
                    .withDirectIo(DirectIoMode.ON));
            f.readAndCheck(1, 0, 8 * BLOCK);
            f.cache.awaitFills();

            for (boolean whole : new boolean[] {false, true}) {
                Thread t = Thread.ofPlatform().start(() -> {
                    Thread.currentThread().interrupt(); // its next channel I/O closes the channel
                    try {
                        f.readAndCheck(1, whole ? 0 : 4096, whole ? BLOCK : 4096);
                    } catch (Exception | AssertionError e) {
                        // the interrupted reader may fail; what matters is everyone after it
                    }
                });
                t.join();
                long hits = f.cache.stats().blockHits.sum();
                long gets = f.dataGets();
                f.readAndCheck(1, 2 * BLOCK + 4096, 4096); // part of a block: the buffered channel
                f.readAndCheck(1, 4 * BLOCK, 2 * BLOCK); // whole blocks: the O_DIRECT channel
                assertEquals(hits + 3, f.cache.stats().blockHits.sum(), "after an interrupted " + (whole ? "whole" : "partial")
                        + " read: " + f.cache.stats());
                assertEquals(gets, f.dataGets(), "all from the cache");
            }
        }
    }
}
