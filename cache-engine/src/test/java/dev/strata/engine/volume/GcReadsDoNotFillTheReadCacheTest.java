package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.gc.GcOptions;
import dev.strata.engine.gc.GcReport;
import dev.strata.engine.readcache.ReadCache;
import dev.strata.engine.readcache.ReadCacheOptions;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GC copies the live data of its victims through the read cache without filling what it fetches
 * (docs/read-cache.md, "Reads that do not fill"): the victims are about to be deleted, and the GC
 * objects holding their live data are filled as they are uploaded. Before, a compaction on a node
 * with a cold cache filled every victim block it read, evicting blocks that readers wanted.
 */
class GcReadsDoNotFillTheReadCacheTest {
    static final int MIB = 1 << 20;
    static final int BLOCK = 64 * 1024;

    @TempDir
    Path tmp;

    @Test
    void aCompactionFillsOnlyItsOwnObjectsAndTheDataReadsBack() throws Exception {
        VolumeOptions opts = VolumeOptions.defaults().withObjectBytes(MIB)
                .withReadCache(new ReadCacheOptions(64L << 20, 4, ReadCacheOptions.defaults().policy()))
                .withGc(GcOptions.defaults().withEnabled(false).withDeleteGrace(Duration.ofMinutes(5)).withLiveThreshold(0.6));
        byte[] image = new byte[8 * MIB];
        try (StrataEngine engine = new StrataEngine(bucket(), tmp.resolve("node"), "n1")) {
            engine.createVolume("v", 64L << 20);
            try (LogStructuredVolume v = engine.openForWrite("v", opts, false)) {
                write(v, image, 0, 8 * MIB, 1); // eight 1 MiB objects
                v.flushToBucket();
                for (int i = 0; i < 8; i++) {
                    write(v, image, (long) i * MIB, MIB / 2, 2); // half of each dies
                }
                v.flushToBucket();
            }
        }
        deleteTree(tmp.resolve("node/cache")); // a node whose cache is cold: GC's reads all miss

        try (StrataEngine engine = new StrataEngine(bucket(), tmp.resolve("node"), "n1");
                LogStructuredVolume v = engine.openForWrite("v", opts, false)) {
            ReadCache cache = engine.readCache(opts);
            GcReport report = v.collectGarbage();
            assertTrue(report.objectsCompacted() >= 8, "the eight half-dead objects compacted: " + report);
            v.flushToBucket(); // the GC objects are uploaded, and filled as they are
            cache.awaitFills();
            long victimBlocksRead = report.bytesCopied() / BLOCK;
            assertTrue(cache.stats().fetchedNotFilled.sum() >= victimBlocksRead, "GC's reads fetched, not filled: " + cache.stats());
            long ownBlocks = (report.bytesCopied() + BLOCK - 1) / BLOCK + report.gcObjectsWritten();
            assertTrue(cache.cachedBlocks() <= ownBlocks, cache.cachedBlocks() + " blocks cached; the GC objects hold at most "
                    + ownBlocks + " (the victims' blocks would add " + victimBlocksRead + "): " + cache.stats());

            ByteBuffer back = ByteBuffer.allocate(image.length);
            v.read(0, back);
            assertEquals(ByteBuffer.wrap(image), back.flip(), "the volume reads back as written");
        }
    }

    /** Writes {@code length} bytes of pattern {@code pass} at {@code offset}, and into the image. */
    private static void write(LogStructuredVolume v, byte[] image, long offset, int length, int pass) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(length);
        for (int k = 0; k < length; k++) {
            byte x = (byte) (pass * 31 + (offset + k) * 7 + (offset + k) / 4099);
            b.put(k, x);
            image[(int) offset + k] = x;
        }
        v.write(offset, b, false);
    }

    /** The bucket (an engine closes its store when it closes). */
    private ObjectStore bucket() {
        return new LocalDirectoryObjectStore(tmp.resolve("bucket"));
    }

    private static void deleteTree(Path p) throws Exception {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
