package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.gc.GcOptions;
import dev.strata.engine.readcache.ReadCache;
import dev.strata.engine.readcache.ReadCacheOptions;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When GC deletes an object from the bucket, its cached blocks and its kept header leave the
 * node's read cache at once (docs/read-cache.md, "Deleted objects"): nothing can read them again,
 * and they would hold slots (and, under TinyLFU, keep newer blocks out) until evicted. The live
 * data still reads back right, from the cache.
 */
class DeletedObjectsLeaveTheReadCacheTest {
    static final int MIB = 1 << 20;
    static final int BLOCKS_PER_MIB = MIB / 65536;

    @TempDir
    Path tmp;

    @Test
    void blocksAndHeadersOfDeletedObjectsAreDroppedAndLiveDataStillReads() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine engine = new StrataEngine(store, tmp.resolve("node"), "n1");
        engine.createVolume("v", 64L << 20);
        VolumeOptions opts = VolumeOptions.defaults().withObjectBytes(MIB).withReadCache(new ReadCacheOptions(64L << 20, 4,
                ReadCacheOptions.defaults().policy())).withGc(GcOptions.defaults().withEnabled(false).withDeleteGrace(Duration.ZERO));
        try (LogStructuredVolume v = engine.openForWrite("v", opts, false)) {
            ReadCache cache = engine.readCache(opts);
            ByteBuffer mib = ByteBuffer.allocateDirect(MIB);
            for (int pass = 0; pass < 2; pass++) { // write 4 MiB, then overwrite it: the first four objects die
                for (int i = 0; i < 4; i++) {
                    for (int k = 0; k < MIB; k++) {
                        mib.put(k, (byte) (pass * 31 + i * 7 + k));
                    }
                    v.write((long) i * MIB, mib.clear(), false);
                }
                v.flushToBucket();
                readBack(v, pass); // every block read: all cached (uploaded fills, or fetched and filled)
                cache.awaitFills();
            }
            long cachedBefore = cache.cachedBlocks();
            Set<String> headersBefore = keptHeaders();
            assertTrue(cachedBefore >= 8 * BLOCKS_PER_MIB, "both generations cached: " + cache.stats());

            int deleted = v.collectGarbage().objectsDeleted();
            for (int i = 0; i < 5 && deleted < 4; i++) {
                v.flushToBucket();
                Thread.sleep(300); // the sealer's checkpoint check runs every 200 ms
                deleted += v.collectGarbage().objectsDeleted();
            }
            assertEquals(4, deleted, "the four overwritten objects deleted; " + v.gcStats());
            assertEquals(4 * BLOCKS_PER_MIB, cache.stats().forgotten.sum(), "every block of them dropped: " + cache.stats());
            assertEquals(cachedBefore - 4 * BLOCKS_PER_MIB, cache.cachedBlocks());
            cache.awaitFills(); // headers are written by the fill threads
            Set<String> gone = new HashSet<>(headersBefore);
            gone.removeAll(keptHeaders());
            assertEquals(4, gone.size(), "their kept headers deleted (and only theirs): " + gone);

            long gets = cache.stats().bucketGets.sum();
            readBack(v, 1);
            assertEquals(gets, cache.stats().bucketGets.sum(), "the live data is still all hits");
        }
        engine.close();
    }

    private static void readBack(LogStructuredVolume v, int pass) throws Exception {
        ByteBuffer got = ByteBuffer.allocateDirect(MIB);
        for (int i = 0; i < 4; i++) {
            v.read((long) i * MIB, got.clear());
            for (int k = 0; k < MIB; k++) {
                if (got.get(k) != (byte) (pass * 31 + i * 7 + k)) {
                    throw new AssertionError("MiB " + i + " byte " + k + " of generation " + pass);
                }
            }
        }
    }

    private Set<String> keptHeaders() throws Exception {
        Path dir = tmp.resolve("node").resolve("cache").resolve("headers");
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".tmp")).collect(Collectors.toSet());
        }
    }
}
