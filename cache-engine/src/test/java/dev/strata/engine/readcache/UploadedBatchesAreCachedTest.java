package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.VolumeOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Through the engine: an uploaded batch goes into the cache as it is uploaded, so reading it back needs no GET. */
class UploadedBatchesAreCachedTest {
    @TempDir
    Path tmp;

    private static byte pattern(long offset) {
        return (byte) ((offset * 31 + (offset >>> 9) * 7) ^ (offset >>> 17));
    }

    @Test
    void freshlyUploadedDataIsReadWithoutAnyGet() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        try (StrataEngine engine = new StrataEngine(store, tmp.resolve("node"), "n1")) {
            VolumeOptions options = VolumeOptions.defaults().withObjectBytes(1 << 20)
                    .withReadCache(new ReadCacheOptions(32L << 20, 4, EvictionPolicy.Kind.TINY_LFU));
            engine.createVolume("v", 64L << 20);
            int bytes = 6 << 20;
            try (LogStructuredVolume v = engine.openForWrite("v", options, false)) {
                ByteBuffer src = ByteBuffer.allocate(bytes);
                for (int i = 0; i < bytes; i++) {
                    src.put(i, pattern(i));
                }
                v.write(0, src, false);
                v.flushToBucket();
                ReadCache cache = engine.readCache(options);
                assertNotNull(cache, "the engine opened its cache");
                cache.awaitFills();
                assertEquals(bytes / CacheFixture.BLOCK, cache.cachedBlocks(), "every block of every uploaded object");
                long gets = store.stats().getRequests();
                ByteBuffer dst = ByteBuffer.allocate(bytes);
                v.read(0, dst);
                for (int i = 0; i < bytes; i++) {
                    if (dst.get(i) != pattern(i)) {
                        throw new AssertionError("byte " + i);
                    }
                }
                assertEquals(gets, store.stats().getRequests(), "no GET: " + cache.stats());
                assertTrue(cache.stats().readsFullHit.sum() > 0);
                assertEquals(0, cache.stats().readsNoHit.sum());
            }
        }
    }

    @Test
    void aZeroSizeDisablesTheCache() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        try (StrataEngine engine = new StrataEngine(store, tmp.resolve("node"), "n1")) {
            VolumeOptions options = VolumeOptions.defaults().withReadCache(ReadCacheOptions.disabled());
            engine.createVolume("v", 1L << 20);
            try (LogStructuredVolume v = engine.openForWrite("v", options, false)) {
                v.write(0, ByteBuffer.allocate(4096), false);
                v.flushToBucket();
                assertEquals(null, engine.readCache(options));
                v.read(0, ByteBuffer.allocate(4096));
            }
        }
    }
}
