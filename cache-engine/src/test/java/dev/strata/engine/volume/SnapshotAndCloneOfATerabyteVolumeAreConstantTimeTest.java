package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.store.ObjectStoreStats;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots and clones are metadata only: on a 1 TiB volume (mostly written, then a full trim in
 * the clone) each takes a small, fixed number of bucket requests, counted, not timed.
 */
class SnapshotAndCloneOfATerabyteVolumeAreConstantTimeTest {
    private static final long TIB = 1L << 40;

    @TempDir
    Path tmp;

    @Test
    void snapshotAndCloneMakeABoundedNumberOfBucketRequests() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine engine = new StrataEngine(store, tmp.resolve("node"), "n1");
        engine.createVolume("big", TIB);
        Random r = new Random(3);
        byte[] first = VolumeImages.random(r, 1 << 20);
        byte[] last = VolumeImages.random(r, 1 << 20);
        try (LogStructuredVolume v = engine.openForWrite("big", VolumeOptions.defaults(), false)) {
            v.write(0, ByteBuffer.wrap(first), false);
            v.write(TIB - (1 << 20), ByteBuffer.wrap(last), false);
            v.writeZeroes(1 << 20, TIB / 2, false); // a huge extent operation: still metadata
            v.flushToBucket();
            long before = requests(store.stats());
            long t0 = System.nanoTime();
            v.createSnapshot("s");
            long snapshotMicros = (System.nanoTime() - t0) / 1000;
            long snapshotRequests = requests(store.stats()) - before;
            // Informational (docs/benchmarks.md); the assertion is on requests, not time.
            System.out.println("snapshot of 1 TiB: " + snapshotRequests + " requests, " + snapshotMicros + " us");
            // Seal+upload of the open batch (nothing left here), LIST epochs, PUT map, PUT record.
            assertTrue(snapshotRequests <= 6, "snapshot of 1 TiB took " + snapshotRequests + " requests");
        }
        long before = requests(store.stats());
        long t0 = System.nanoTime();
        engine.cloneVolume("big", "s", "copy");
        long cloneMicros = (System.nanoTime() - t0) / 1000;
        long cloneRequests = requests(store.stats()) - before;
        System.out.println("clone of 1 TiB: " + cloneRequests + " requests, " + cloneMicros + " us");
        // LIST the name, GET superblock x2, GET record x2, PUT ref, GET marker, PUT superblock, and the
        // check after the superblock: GET the two markers and the record again.
        assertTrue(cloneRequests <= 11, "clone of 1 TiB took " + cloneRequests + " requests");

        try (LogStructuredVolume c = engine.openForWrite("copy", VolumeOptions.defaults(), false)) {
            assertEquals(TIB, c.size());
            ByteBuffer got = ByteBuffer.allocate(1 << 20);
            c.read(TIB - (1 << 20), got);
            assertEquals(ByteBuffer.wrap(last), got.flip(), "clone reads the parent's last MiB");
            c.trim(0, TIB); // 128 ZERO extents hide the whole parent
            got.clear();
            c.read(0, got);
            assertEquals(ByteBuffer.allocate(1 << 20), got.flip(), "trimmed clone reads zeros");
            assertEquals(List.of(new Volume.AllocationRun(TIB, true)), c.allocation(0, TIB, 4));
        }
        try (SnapshotView s = engine.openSnapshot("big", "s")) {
            ByteBuffer got = ByteBuffer.allocate(1 << 20);
            s.read(0, got);
            assertEquals(ByteBuffer.wrap(first), got.flip(), "the snapshot is untouched by the clone's trim");
        }
    }

    private static long requests(ObjectStoreStats s) {
        return s.puts.sum() + s.conditionalPuts.sum() + s.gets.sum() + s.rangedGets.sum() + s.lists.sum() + s.deletes.sum();
    }
}
