package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot reads the volume as it was when it was taken, whatever happens to the volume later:
 * overwrites, trims, checkpoint rotation, a crash right after the snapshot, reopening.
 */
class SnapshotsSurviveOverwritesAndCrashesTest {
    private static final int SIZE = 8 << 20;
    private static final VolumeOptions OPTS = VolumeOptions.defaults().withObjectBytes(64 * 1024)
            .withCheckpointEveryObjects(2).withSealAfter(Duration.ofMillis(20));

    @TempDir
    Path tmp;

    private StrataEngine engine() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        return new StrataEngine(store, tmp.resolve("node"), "n1");
    }

    @Test
    void snapshotSurvivesLaterOverwritesTrimsAndCheckpointRotation() throws Exception {
        StrataEngine engine = engine();
        engine.createVolume("v", SIZE);
        Random r = new Random(1);
        byte[] image = new byte[SIZE];
        byte[] atS1;
        byte[] atS2;
        try (LogStructuredVolume v = engine.openForWrite("v", OPTS, false)) {
            for (int i = 0; i < 300; i++) {
                VolumeImages.randomOp(v, image, r);
            }
            v.createSnapshot("s1");
            atS1 = image.clone();
            for (int i = 0; i < 300; i++) {
                VolumeImages.randomOp(v, image, r);
            }
            v.createSnapshot("s2");
            atS2 = image.clone();
            // Overwrite and trim everything: every block of the snapshots is now dead in the volume.
            v.trim(0, SIZE);
            for (int off = 0; off < SIZE; off += 1 << 20) {
                VolumeImages.write(v, image, off, VolumeImages.random(r, 1 << 20));
            }
            v.trim(0, SIZE / 2);
            java.util.Arrays.fill(image, 0, SIZE / 2, (byte) 0);
            for (int i = 0; i < 5; i++) {
                v.flushToBucket();
                v.checkpoint(); // rotation deletes old checkpoints, never snapshot maps
            }
            try (SnapshotView s1 = engine.openSnapshot("v", "s1")) {
                VolumeImages.assertMatches(s1, atS1, "s1 while the volume is open");
            }
            VolumeImages.assertMatches(v, image, "volume");
        }
        try (SnapshotView s1 = engine.openSnapshot("v", "s1"); SnapshotView s2 = engine.openSnapshot("v", "s2")) {
            VolumeImages.assertMatches(s1, atS1, "s1");
            VolumeImages.assertMatches(s2, atS2, "s2");
            assertTrue(s1.isReadOnly());
            assertThrows(ReadOnlyVolumeException.class, () -> s1.write(0, ByteBuffer.allocate(4096), false));
            assertThrows(ReadOnlyVolumeException.class, () -> s1.trim(0, 4096));
        }
        List<SnapshotRecord> list = engine.listSnapshots("v");
        assertEquals(List.of("s1", "s2"), list.stream().map(SnapshotRecord::snapshot).toList());
        assertTrue(list.get(0).objectSeq() <= list.get(1).objectSeq());
    }

    @Test
    void crashRightAfterCreateSnapshotLeavesItReadableAndEqual() throws Exception {
        StrataEngine engine = engine();
        engine.createVolume("v", SIZE);
        Random r = new Random(2);
        byte[] image = new byte[SIZE];
        LogStructuredVolume v = engine.openForWrite("v", OPTS, false);
        for (int i = 0; i < 200; i++) {
            VolumeImages.randomOp(v, image, r);
        }
        v.createSnapshot("s");
        byte[] atS = image.clone();
        for (int i = 0; i < 20; i++) {
            VolumeImages.randomOp(v, image, r); // in the journal only, maybe: lost or replayed, never in s
        }
        v.crashForTest(true);
        try (SnapshotView s = engine.openSnapshot("v", "s")) {
            VolumeImages.assertMatches(s, atS, "snapshot after the crash");
        }
        try (LogStructuredVolume again = engine.openForWrite("v", OPTS, false)) {
            for (int i = 0; i < 50; i++) {
                VolumeImages.randomOp(again, image, r);
            }
        }
        try (SnapshotView s = engine.openSnapshot("v", "s")) {
            VolumeImages.assertMatches(s, atS, "snapshot after reopening and writing");
        }
    }

    @Test
    void takenNameIsRefusedAndDeletedSnapshotIsGone() throws Exception {
        StrataEngine engine = engine();
        engine.createVolume("v", SIZE);
        try (LogStructuredVolume v = engine.openForWrite("v", OPTS, false)) {
            VolumeImages.write(v, new byte[SIZE], 0, VolumeImages.random(new Random(3), 8192));
            v.createSnapshot("s");
            SnapshotExistsException e = assertThrows(SnapshotExistsException.class, () -> v.createSnapshot("s"));
            assertTrue(e.getMessage().contains("snapshot s of volume v"), e.getMessage());
            // Through the engine: the open writer takes it (the volume is locked for anyone else).
            engine.createSnapshot("v", "t");
        }
        // Nobody has it open: the engine opens it for write briefly.
        engine.createSnapshot("v", "u");
        assertEquals(List.of("s", "t", "u"), engine.listSnapshots("v").stream().map(SnapshotRecord::snapshot).toList());
        engine.deleteSnapshot("v", "t");
        assertEquals(List.of("s", "u"), engine.listSnapshots("v").stream().map(SnapshotRecord::snapshot).toList());
        assertThrows(SnapshotNotFoundException.class, () -> engine.openSnapshot("v", "t"));
        assertThrows(SnapshotNotFoundException.class, () -> engine.deleteSnapshot("v", "t"));
        assertThrows(IllegalArgumentException.class, () -> engine.createSnapshot("v", "bad.name"));
        // The name is free again.
        engine.createSnapshot("v", "t");
    }

    @Test
    void snapshotOfAnEmptyVolumeReadsZeros() throws Exception {
        StrataEngine engine = engine();
        engine.createVolume("v", SIZE);
        engine.createSnapshot("v", "empty");
        try (SnapshotView s = engine.openSnapshot("v", "empty")) {
            VolumeImages.assertMatches(s, new byte[SIZE], "empty snapshot");
            assertEquals(List.of(new Volume.AllocationRun(SIZE, true)), s.allocation(0, SIZE, 10));
        }
    }
}
