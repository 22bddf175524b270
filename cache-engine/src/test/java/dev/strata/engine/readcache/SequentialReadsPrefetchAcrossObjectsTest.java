package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

/**
 * The volume's readahead follows a sequential reader by volume offset, so it runs on from one
 * object into the next: a node that never saw the volume reads it front to back and fetches
 * almost every block ahead of the reader (only the first reads wait for their own GETs), each
 * block exactly once. Per-object readahead made the first two reads of every object wait.
 */
class SequentialReadsPrefetchAcrossObjectsTest {
    private static final int BLOCK = CacheFixture.BLOCK;

    @TempDir
    Path tmp;

    /** 1 MiB objects, a 64 MiB read cache. */
    private final VolumeOptions options = VolumeOptions.defaults().withObjectBytes(1 << 20)
            .withReadCache(new ReadCacheOptions(64L << 20, 4, EvictionPolicy.Kind.TINY_LFU));

    /** A writer node writes {@code bytes} of {@link #pattern} from offset 0 and uploads them. */
    private void writeAndUpload(int bytes) throws java.io.IOException {
        try (StrataEngine writer = new StrataEngine(bucket(), tmp.resolve("writer"), "writer")) {
            writer.createVolume("v", 32L << 20);
            try (LogStructuredVolume v = writer.openForWrite("v", options, false)) {
                ByteBuffer src = ByteBuffer.allocate(bytes);
                for (int i = 0; i < bytes; i++) {
                    src.put(i, pattern(i));
                }
                v.write(0, src, false);
                v.flushToBucket();
            }
        }
    }

    /** Each engine owns (and closes) its store: one per node, over the same bucket directory. */
    private ObjectStore bucket() throws java.io.IOException {
        return new LocalDirectoryObjectStore(tmp.resolve("bucket"));
    }

    private static byte pattern(long offset) {
        return (byte) ((offset * 31 + (offset >>> 9) * 7) ^ (offset >>> 17));
    }

    @Test
    void aColdSequentialReaderFindsTheNextObjectsAlreadyFetched() throws Exception {
        int bytes = 16 << 20;
        writeAndUpload(bytes); // 16 object boundaries; readahead 4 GETs of 1 MiB (the defaults)
        try (StrataEngine reader = new StrataEngine(bucket(), tmp.resolve("reader"), "reader");
                LogStructuredVolume v = reader.openReadOnly("v", options)) {
            ReadCache cache = reader.readCache(options);
            int readBytes = 256 << 10;
            ByteBuffer dst = ByteBuffer.allocate(readBytes);
            for (long off = 0; off < bytes; off += readBytes) {
                v.read(off, dst.clear());
                for (int i = 0; i < readBytes; i++) {
                    if (dst.get(i) != pattern(off + i)) {
                        throw new AssertionError("byte " + (off + i));
                    }
                }
            }
            ReadCacheStats s = cache.stats();
            long blocks = bytes / BLOCK;
            assertEquals(bytes, s.bucketBytes.sum(), "every block fetched exactly once: " + s);
            long ownBlocks = blocks - s.readaheadBlocks.sum();
            // The first two reads (8 blocks) fetch their own; the rest was prefetched. Per-object
            // readahead fetched 8 of every object's 16 blocks in the reader's own GETs (50 %).
            assertTrue(ownBlocks <= blocks / 10, "blocks the reader fetched itself: " + ownBlocks + " of " + blocks + ": " + s);
            assertTrue(s.flightJoins.sum() + s.blockHits.sum() >= blocks - ownBlocks, "the reader joined or hit the prefetches: " + s);
        }
    }

    @Test
    void randomReadsPrefetchNothing() throws Exception {
        writeAndUpload(8 << 20);
        try (StrataEngine reader = new StrataEngine(bucket(), tmp.resolve("reader"), "reader");
                LogStructuredVolume v = reader.openReadOnly("v", options)) {
            ByteBuffer dst = ByteBuffer.allocate(4096);
            for (int i = 0; i < 64; i++) {
                // 4 KiB reads, each in another MiB than the last, and going backwards within each MiB.
                long off = ((long) (i % 8) << 20) + (15L - i / 8) * BLOCK;
                v.read(off, dst.clear());
            }
            assertEquals(0, reader.readCache(options).stats().readaheadBlocks.sum(), "no readahead for scattered reads");
        }
    }
}
