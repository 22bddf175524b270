package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.engine.gc.GcOptions;
import dev.strata.engine.gc.GcReport;
import dev.strata.engine.readcache.ReadCacheOptions;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Found by bench/gc.sh: an object GC retires is deleted only after two later map checkpoints,
 * and a checkpoint needs a new object number, so the garbage of a volume that stopped being
 * written used to stay in the bucket for good. GC now stores the two checkpoints itself on a
 * quiet volume (at once for an explicit pass, after six quiet intervals in the background),
 * each on an empty GC object (docs/gc.md, "Deleting").
 */
class GcDeletesGarbageOfAnIdleVolumeTest {
    @TempDir
    Path tmp;

    @Test
    void garbageOfAVolumeNoLongerWrittenIsDeletedByLaterPasses() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine engine = new StrataEngine(store, tmp.resolve("node"), "n1");
        engine.createVolume("v", 64L << 20);
        VolumeOptions opts = VolumeOptions.defaults().withObjectBytes(1 << 20).withReadCache(ReadCacheOptions.disabled())
                .withGc(GcOptions.defaults().withEnabled(false).withDeleteGrace(Duration.ZERO));
        try (LogStructuredVolume v = engine.openForWrite("v", opts, false)) {
            ByteBuffer mib = ByteBuffer.allocateDirect(1 << 20);
            for (int pass = 0; pass < 2; pass++) { // write 4 MiB, then overwrite it: objects 1-4 are dead
                for (int i = 0; i < 4; i++) {
                    v.write((long) i << 20, mib.clear(), false);
                }
                v.flushToBucket();
            }
            GcReport first = v.collectGarbage();
            assertEquals(4, first.objectsRetired(), "the four overwritten objects are empty: " + first);
            int deleted = first.objectsDeleted();
            for (int i = 0; i < 5; i++) { // the volume is idle from here on
                v.flushToBucket();
                Thread.sleep(300); // the sealer's checkpoint check runs every 200 ms
                deleted += v.collectGarbage().objectsDeleted();
            }
            assertEquals(4, deleted, "dead objects of an idle volume deleted by later passes; " + v.gcStats());
        }
        engine.close();
    }
}
