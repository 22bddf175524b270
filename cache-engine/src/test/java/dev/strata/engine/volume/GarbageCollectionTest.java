package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.gc.GcOptions;
import dev.strata.engine.gc.GcReport;
import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.store.ForwardingObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Garbage collection frees the bucket without changing a byte the volume, a snapshot or a node
 * taking over reads (docs/gc.md). Passes are run explicitly (the background collector is off)
 * so each test can say exactly what a pass must have done.
 */
class GarbageCollectionTest {
    private static final int OBJECT = 64 * 1024;
    private static final int SIZE = 4 << 20;
    private static final VolumeOptions OPTS = VolumeOptions.defaults().withObjectBytes(OBJECT)
            .withCheckpointEveryObjects(100_000).withSealAfter(Duration.ofSeconds(30))
            .withGc(GcOptions.defaults().withEnabled(false).withDeleteGrace(Duration.ZERO).withLiveThreshold(0.5));

    @TempDir
    Path tmp;

    private ObjectStore store;
    private final List<StrataEngine> engines = new ArrayList<>();

    private StrataEngine engine(String node) throws Exception {
        if (store == null) {
            store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        }
        // The engines share the bucket: each gets a view of it that it may close.
        StrataEngine e = new StrataEngine(new ForwardingObjectStore(store) {
            @Override
            public void close() {}
        }, tmp.resolve(node), node);
        engines.add(e);
        return e;
    }

    /** Closes every engine: its read cache's fill threads (which keep object headers) stop before the temporary directory goes. */
    @AfterEach
    void closeEngines() throws Exception {
        for (StrataEngine e : engines) {
            e.close();
        }
    }

    private Set<String> objectKeys(String volume) throws IOException {
        VolumeKeys keys = new VolumeKeys(volume);
        return store.list(keys.objectsPrefix()).stream().map(ObjectInfo::key).collect(Collectors.toSet());
    }

    /** Two checkpoints captured after whatever GC retired so far (each after a new object). */
    private static void twoCheckpoints(LogStructuredVolume v, byte[] image, Random r) throws IOException {
        for (int i = 0; i < 2; i++) {
            VolumeImages.write(v, image, (long) r.nextInt(SIZE / 4096) * 4096, VolumeImages.random(r, 4096));
            v.flushToBucket();
            v.checkpoint();
        }
    }

    @Test
    void compactionCopiesOnlyLiveDataAndDeletesTheEmptiedObjects() throws Exception {
        StrataEngine engine = engine("n1");
        engine.createVolume("v", SIZE);
        Random r = new Random(7);
        byte[] image = new byte[SIZE];
        Set<String> firstGeneration;
        try (LogStructuredVolume v = engine.openForWrite("v", OPTS, false)) {
            v.gcMakesCheckpoints(false); // this test drives the checkpoints of the deletion rule
            for (int off = 0; off < SIZE; off += OBJECT) {
                VolumeImages.write(v, image, off, VolumeImages.random(r, OBJECT));
            }
            v.flushToBucket();
            firstGeneration = objectKeys("v");
            assertEquals(SIZE / OBJECT, firstGeneration.size());
            // Three quarters of every object overwritten: each keeps 16 KiB live.
            for (int off = 0; off < SIZE; off += OBJECT) {
                VolumeImages.write(v, image, off, VolumeImages.random(r, OBJECT * 3 / 4));
            }
            v.flushToBucket();

            GcReport first = v.collectGarbage();
            assertEquals(SIZE / OBJECT, first.objectsCompacted(), first.toString());
            assertEquals((long) SIZE / 4, first.bytesCopied(), "only the live quarter is copied: " + first);
            assertEquals(0, first.objectsDeleted(), "nothing is deleted before two later checkpoints: " + first);
            VolumeImages.assertMatches(v, image, "after compaction");

            twoCheckpoints(v, image, r);
            GcReport second = v.collectGarbage();
            assertTrue(second.objectsDeleted() >= SIZE / OBJECT, second.toString());
            Set<String> now = objectKeys("v");
            for (String k : firstGeneration) {
                assertTrue(!now.contains(k), k + " should have been deleted");
            }
            VolumeImages.assertMatches(v, image, "after deletion");
        }
        // Clean reopen, a crash with power cut, and another node taking over: all read the same.
        try (LogStructuredVolume v = engine.openForWrite("v", OPTS, false)) {
            VolumeImages.assertMatches(v, image, "reopened");
            v.crashForTest(true);
        }
        try (LogStructuredVolume v = engine.openForWrite("v", OPTS, false)) {
            VolumeImages.assertMatches(v, image, "after a power cut");
            v.crashForTest(true);
        }
        try (LogStructuredVolume v = engine("n2").openForWrite("v", OPTS, true)) {
            VolumeImages.assertMatches(v, image, "taken over from the bucket alone");
        }
    }

    @Test
    void aSnapshotKeepsTheObjectsItReadsUntilItIsDeleted() throws Exception {
        StrataEngine engine = engine("n1");
        engine.createVolume("v", SIZE);
        Random r = new Random(8);
        byte[] image = new byte[SIZE];
        try (LogStructuredVolume v = engine.openForWrite("v", OPTS, false)) {
            v.gcMakesCheckpoints(false); // this test drives the checkpoints of the deletion rule
            for (int off = 0; off < SIZE; off += OBJECT) {
                VolumeImages.write(v, image, off, VolumeImages.random(r, OBJECT));
            }
            v.createSnapshot("s1");
            byte[] atS1 = image.clone();
            Set<String> pinned = objectKeys("v");
            for (int off = 0; off < SIZE; off += OBJECT) {
                VolumeImages.write(v, image, off, VolumeImages.random(r, OBJECT));
            }
            v.flushToBucket();
            v.collectGarbage();
            twoCheckpoints(v, image, r);
            GcReport kept = v.collectGarbage();
            assertEquals(0, kept.objectsDeleted(), "the snapshot's objects are pinned: " + kept);
            assertTrue(objectKeys("v").containsAll(pinned));
            try (SnapshotView s1 = engine.openSnapshot("v", "s1")) {
                VolumeImages.assertMatches(s1, atS1, "s1 after GC");
            }

            engine.deleteSnapshot("v", "s1");
            v.collectGarbage(); // the pins are re-read: the old objects are retired now
            twoCheckpoints(v, image, r);
            GcReport freed = v.collectGarbage();
            assertTrue(freed.objectsDeleted() >= pinned.size(), "deleting the snapshot releases its objects: " + freed);
            Set<String> now = objectKeys("v");
            assertTrue(pinned.stream().noneMatch(now::contains), "still there: " + pinned.stream().filter(now::contains).toList());
            VolumeImages.assertMatches(v, image, "volume");
        }
    }

    /** Writes two generations of the whole volume: the first is all dead. */
    private static void twoGenerations(LogStructuredVolume v, byte[] image, Random r) throws IOException {
        for (int gen = 0; gen < 2; gen++) {
            for (int off = 0; off < SIZE; off += OBJECT) {
                VolumeImages.write(v, image, off, VolumeImages.random(r, OBJECT));
            }
            v.flushToBucket();
            v.checkpoint();
        }
    }

    @Test
    void aWriterThatWasTakenOverDeletesNothing() throws Exception {
        StrataEngine a = engine("a");
        a.createVolume("v", SIZE);
        Random r = new Random(9);
        byte[] image = new byte[SIZE];
        Duration grace = Duration.ofSeconds(4);
        LogStructuredVolume old = a.openForWrite("v", OPTS.withGc(OPTS.gc().withDeleteGrace(grace)), false);
        old.gcMakesCheckpoints(false); // this test drives the checkpoints of the deletion rule
        twoGenerations(old, image, r);
        old.collectGarbage(); // retires the first generation
        twoCheckpoints(old, image, r); // ...which is now safe to delete once the grace has passed
        byte[] atTakeOver = image.clone();
        // Node b takes the volume over within the grace; node a does not know yet (its fence check is periodic).
        LogStructuredVolume taker = engine("b").openForWrite("v", OPTS, true);
        Set<String> before = objectKeys("v");
        Thread.sleep(grace.toMillis() + 100);
        GcReport fenced = old.collectGarbage();
        assertEquals(0, fenced.objectsDeleted(), "the deletion phase's fence check stops it: " + fenced);
        assertTrue(objectKeys("v").containsAll(before), "a fenced writer must not delete what the new holder reads");
        assertThrows(VolumeFencedException.class, () -> old.write(0, ByteBuffer.allocate(4096), false));
        VolumeImages.assertMatches(taker, atTakeOver, "the new holder");
        taker.close();
        old.crashForTest(false);
    }

    @Test
    void checkpointsOfAWriterThatWasTakenOverNeverDisplaceTheNewHolders() throws Exception {
        StrataEngine a = engine("a");
        a.createVolume("v", SIZE);
        Random r = new Random(10);
        byte[] image = new byte[SIZE];
        LogStructuredVolume old = a.openForWrite("v", OPTS, false);
        old.gcMakesCheckpoints(false);
        twoGenerations(old, image, r);
        LogStructuredVolume taker = engine("b").openForWrite("v", OPTS, true);
        // The old writer, not aware yet, stores a checkpoint past the new holder's fence; its pruning
        // then sees the new epoch and deletes nothing.
        old.write(0, ByteBuffer.wrap(VolumeImages.random(r, 4096)), false);
        old.flushToBucket();
        old.checkpoint();
        assertThrows(VolumeFencedException.class, () -> old.write(0, ByteBuffer.allocate(4096), false));
        // The new holder's pruning deletes that checkpoint instead of letting it displace its own fallback.
        for (int i = 0; i < 2; i++) {
            VolumeImages.write(taker, image, 4096L * i, VolumeImages.random(r, 4096));
            taker.flushToBucket();
            taker.checkpoint();
        }
        VolumeKeys keys = new VolumeKeys("v");
        List<long[]> cps = store.list(keys.checkpointsPrefix()).stream()
                .map(o -> VolumeKeys.parseSeqEpoch(o.key(), keys.checkpointsPrefix())).toList();
        assertEquals(2, cps.size(), "the newest two: " + cps.stream().map(java.util.Arrays::toString).toList());
        assertTrue(cps.stream().allMatch(se -> se[1] == taker.epoch()), "only the new holder's checkpoints remain");
        taker.crashForTest(true);
        try (LogStructuredVolume again = engine("b").openForWrite("v", OPTS, false)) {
            VolumeImages.assertMatches(again, image, "reopened from the new holder's checkpoints");
        }
        old.crashForTest(false);
    }

    @Test
    void anOpenSlowerThanHalfTheDeleteGraceIsRefused() throws Exception {
        StrataEngine fast = engine("n1");
        fast.createVolume("v", SIZE);
        fast.openForWrite("v", OPTS, false).close();
        ObjectStore slow = new SlowListStore(store, 300);
        StrataEngine engine = new StrataEngine(slow, tmp.resolve("n2"), "n2");
        VolumeOptions opts = OPTS.withGc(OPTS.gc().withDeleteGrace(Duration.ofMillis(200)));
        VolumeException e = assertThrows(VolumeException.class, () -> engine.openForWrite("v", opts, true));
        assertTrue(e.getMessage().contains("grace"), e.getMessage());
        // With a grace the load fits in, the same open works.
        engine.openForWrite("v", OPTS.withGc(OPTS.gc().withDeleteGrace(Duration.ofMinutes(5))), true).close();
    }

    /** A store whose LISTs take {@code delayMs} (a slow bucket or a huge volume). */
    private static final class SlowListStore extends ForwardingObjectStore {
        private final long delayMs;

        SlowListStore(ObjectStore delegate, long delayMs) {
            super(delegate);
            this.delayMs = delayMs;
        }

        @Override
        public List<ObjectInfo> list(String prefix) throws IOException {
            try {
                Thread.sleep(delayMs);
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            return delegate.list(prefix);
        }
    }
}
