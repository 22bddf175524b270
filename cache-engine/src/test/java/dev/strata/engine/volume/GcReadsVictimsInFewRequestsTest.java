package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.gc.GcOptions;
import dev.strata.engine.gc.GcReport;
import dev.strata.engine.readcache.ReadCacheOptions;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Garbage collection reads a victim's live data in a few ranged reads, not one per live piece:
 * after uniform random 4 KiB overwrites a victim's live data is hundreds of scattered 4 KiB
 * pieces, and one GET each (each fetching a whole 64 KiB data block) made GC's bucket reads
 * cost about 16 times the data copied and a GET per 4 KiB copied (bench/gc.sh without a read
 * cache: ~100,000 GETs per GiB written).
 */
class GcReadsVictimsInFewRequestsTest {
    private static final int OBJECT = 1 << 20;
    private static final int BLOCKS = OBJECT / 4096;

    @TempDir
    Path tmp;

    @Test
    void aVictimOfScatteredLivePiecesIsReadInOneRequest() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine engine = new StrataEngine(store, tmp.resolve("node"), "n1");
        engine.createVolume("v", 16L << 20);
        VolumeOptions opts = VolumeOptions.defaults().withObjectBytes(OBJECT).withSealAfter(Duration.ofHours(1))
                .withReadCache(ReadCacheOptions.disabled())
                .withGc(GcOptions.defaults().withEnabled(false).withDeleteGrace(Duration.ZERO));
        Random r = new Random(7);
        byte[] image = new byte[BLOCKS * 4096];
        try (LogStructuredVolume v = engine.openForWrite("v", opts, false)) {
            v.gcMakesCheckpoints(false); // only the victim's reads are counted here, not the deletion round's
            // One object of 256 single-block extents in random LBA order: no two neighbours in
            // the object are neighbours on the volume, so every live block is its own piece.
            List<Integer> order = new ArrayList<>();
            for (int b = 0; b < BLOCKS; b++) {
                order.add(b);
            }
            Collections.shuffle(order, r);
            for (int b : order) {
                write(v, image, b, r);
            }
            v.flushToBucket();
            // Overwrite three blocks in four: the first object keeps 64 scattered live blocks (25 %).
            for (int b : order) {
                if (b % 4 != 0) {
                    write(v, image, b, r);
                }
            }
            v.flushToBucket();
            long getsBefore = store.stats().getRequests();
            long bytesBefore = store.stats().bytesGot.sum();
            GcReport rep = v.collectGarbage();
            v.flushToBucket();
            long gets = store.stats().getRequests() - getsBefore;
            long bytes = store.stats().bytesGot.sum() - bytesBefore;
            assertEquals(1, rep.objectsCompacted(), "the first object is the one victim: " + rep);
            assertEquals(BLOCKS / 4 * 4096L, rep.bytesCopied());
            assertTrue(gets <= 2, "GC read 64 live 4 KiB pieces of one victim with " + gets + " GETs (" + bytes + " bytes)");
            assertTrue(bytes <= OBJECT, "GC read " + bytes + " bytes to copy " + rep.bytesCopied());
            assertMatches(v, image);
        }
        engine.close();
        StrataEngine again = new StrataEngine(new LocalDirectoryObjectStore(tmp.resolve("bucket")), tmp.resolve("node"), "n1");
        try (LogStructuredVolume v = again.openForWrite("v", VolumeOptions.defaults().withReadCache(ReadCacheOptions.disabled()), false)) {
            assertMatches(v, image);
        }
        again.close();
    }

    private static void write(LogStructuredVolume v, byte[] image, int block, Random r) throws Exception {
        byte[] data = new byte[4096];
        r.nextBytes(data);
        System.arraycopy(data, 0, image, block * 4096, 4096);
        v.write(block * 4096L, ByteBuffer.wrap(data), false);
    }

    private static void assertMatches(LogStructuredVolume v, byte[] image) throws Exception {
        ByteBuffer got = ByteBuffer.allocate(image.length);
        v.read(0, got);
        assertArrayEquals(image, got.array());
    }
}
