package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A clone reads its unwritten blocks from its parent snapshot; its own writes, trims and zeroes
 * never touch the source and the source's later writes never touch it; trimmed blocks of a clone
 * read zeros, not the parent's data — after reopening and after a crash too; clones of clones.
 */
class ClonesReadThroughTheirParentTest {
    private static final int SIZE = 8 << 20;
    private static final VolumeOptions OPTS = VolumeOptions.defaults().withObjectBytes(64 * 1024)
            .withCheckpointEveryObjects(3).withSealAfter(Duration.ofMillis(20));

    @TempDir
    Path tmp;

    private StrataEngine engine() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        return new StrataEngine(store, tmp.resolve("node"), "n1");
    }

    @Test
    void cloneReadsThroughAndEachSideKeepsItsOwnWrites() throws Exception {
        StrataEngine engine = engine();
        engine.createVolume("src", SIZE);
        Random r = new Random(11);
        byte[] src = new byte[SIZE];
        try (LogStructuredVolume v = engine.openForWrite("src", OPTS, false)) {
            for (int i = 0; i < 300; i++) {
                VolumeImages.randomOp(v, src, r);
            }
            v.createSnapshot("s");
        }
        byte[] atS = src.clone();
        Superblock sb = engine.cloneVolume("src", "s", "c");
        assertEquals("src@s", sb.parent());
        assertEquals("src@s", engine.superblock("c").parent());
        assertEquals(List.of("c"), engine.clonesOf("src", "s"));

        byte[] clone = atS.clone();
        try (LogStructuredVolume c = engine.openForWrite("c", OPTS, false);
                LogStructuredVolume v = engine.openForWrite("src", OPTS, false)) {
            VolumeImages.assertMatches(c, clone, "fresh clone");
            for (int i = 0; i < 300; i++) {
                VolumeImages.randomOp(c, clone, r);
                VolumeImages.randomOp(v, src, r);
            }
            // Trims and zeroes in the clone over ranges the parent has data in read zeros.
            c.trim(0, 1 << 20);
            c.writeZeroes(2 << 20, 1 << 20, false);
            Arrays.fill(clone, 0, 1 << 20, (byte) 0);
            Arrays.fill(clone, 2 << 20, 3 << 20, (byte) 0);
            VolumeImages.assertMatches(c, clone, "clone");
            VolumeImages.assertMatches(v, src, "source");
            // Block status never reports the parent's data as a hole, and reports the trimmed range as one.
            List<Volume.AllocationRun> runs = c.allocation(0, 1 << 20, 8);
            assertEquals(List.of(new Volume.AllocationRun(1 << 20, true)), runs);
        }
        // Reopened: the ZERO extents come back from objects and checkpoints.
        try (LogStructuredVolume c = engine.openReadOnly("c", OPTS)) {
            VolumeImages.assertMatches(c, clone, "clone reopened read-only");
        }
        try (LogStructuredVolume c = engine.openForWrite("c", OPTS, false)) {
            VolumeImages.assertMatches(c, clone, "clone reopened for write");
            c.trim(4 << 20, 1 << 20);
            Arrays.fill(clone, 4 << 20, 5 << 20, (byte) 0);
            VolumeImages.write(c, clone, 6 << 20, VolumeImages.random(r, 4096));
            c.flush(); // durable in the journal only (not uploaded): replay after the crash must keep the ZERO
            c.crashForTest(true);
        }
        try (LogStructuredVolume c = engine.openForWrite("c", OPTS, false)) {
            VolumeImages.assertMatches(c, clone, "clone after a crash and journal replay");
        }
        try (SnapshotView s = engine.openSnapshot("src", "s")) {
            VolumeImages.assertMatches(s, atS, "the parent snapshot");
        }
        try (LogStructuredVolume v = engine.openReadOnly("src", OPTS)) {
            VolumeImages.assertMatches(v, src, "source");
        }
    }

    @Test
    void cloneOfACloneReadsThroughBothLayers() throws Exception {
        StrataEngine engine = engine();
        engine.createVolume("a", SIZE);
        Random r = new Random(12);
        byte[] a = new byte[SIZE];
        try (LogStructuredVolume v = engine.openForWrite("a", OPTS, false)) {
            for (int i = 0; i < 200; i++) {
                VolumeImages.randomOp(v, a, r);
            }
            v.createSnapshot("s");
        }
        engine.cloneVolume("a", "s", "b");
        byte[] b = a.clone();
        try (LogStructuredVolume v = engine.openForWrite("b", OPTS, false)) {
            for (int i = 0; i < 100; i++) {
                VolumeImages.randomOp(v, b, r);
            }
            v.trim(1 << 20, 1 << 20);
            Arrays.fill(b, 1 << 20, 2 << 20, (byte) 0);
            v.createSnapshot("t");
        }
        byte[] bAtT = b.clone();
        engine.cloneVolume("b", "t", "c");
        byte[] c = bAtT.clone();
        try (LogStructuredVolume v = engine.openForWrite("c", OPTS, false)) {
            VolumeImages.assertMatches(v, c, "clone of a clone, fresh");
            for (int i = 0; i < 100; i++) {
                VolumeImages.randomOp(v, c, r);
            }
            v.trim(3 << 20, 1 << 20);
            Arrays.fill(c, 3 << 20, 4 << 20, (byte) 0);
            VolumeImages.assertMatches(v, c, "clone of a clone");
            v.createSnapshot("u");
        }
        try (LogStructuredVolume v = engine.openForWrite("b", OPTS, false)) {
            for (int i = 0; i < 100; i++) {
                VolumeImages.randomOp(v, b, r); // the middle layer changes; c must not
            }
        }
        try (SnapshotView u = engine.openSnapshot("c", "u"); SnapshotView t = engine.openSnapshot("b", "t");
                LogStructuredVolume vb = engine.openReadOnly("b", OPTS); LogStructuredVolume va = engine.openReadOnly("a", OPTS)) {
            VolumeImages.assertMatches(u, c, "snapshot of the clone of a clone");
            VolumeImages.assertMatches(t, bAtT, "snapshot of the clone");
            VolumeImages.assertMatches(vb, b, "middle clone");
            VolumeImages.assertMatches(va, a, "root volume");
            assertNotNull(u.record());
        }
    }

    @Test
    void cloningAndTheErrorsOfCloning() throws Exception {
        StrataEngine engine = engine();
        engine.createVolume("src", SIZE);
        engine.createSnapshot("src", "s");
        engine.cloneVolume("src", "s", "c1");
        engine.cloneVolume("src", "s", "c2");
        assertThrows(VolumeExistsException.class, () -> engine.cloneVolume("src", "s", "c2"));
        assertEquals(List.of("c1", "c2"), engine.clonesOf("src", "s"));
        assertThrows(SnapshotNotFoundException.class, () -> engine.cloneVolume("src", "nope", "c3"));
        assertThrows(VolumeNotFoundException.class, () -> engine.cloneVolume("nope", "s", "c3"));
        try (SnapshotView s = engine.openSnapshot("src", "s")) {
            VolumeImages.assertMatches(s, new byte[SIZE], "snapshot still there");
        }
    }

    @Test
    void deletingASnapshotAClonesReadsFromHidesItUntilTheLastCloneGoes() throws Exception {
        StrataEngine engine = engine();
        engine.createVolume("src", SIZE);
        engine.createSnapshot("src", "s");
        engine.cloneVolume("src", "s", "c1");
        engine.cloneVolume("src", "s", "c2");
        assertEquals(List.of("c1", "c2"), engine.deleteSnapshot("src", "s"));
        assertEquals(List.of(), engine.listSnapshots("src"));
        SnapshotNotFoundException hidden = assertThrows(SnapshotNotFoundException.class, () -> engine.openSnapshot("src", "s"));
        assertTrue(hidden.getMessage().contains("c1"), hidden.getMessage());
        assertThrows(SnapshotNotFoundException.class, () -> engine.snapshot("src", "s"));
        assertThrows(SnapshotNotFoundException.class, () -> engine.cloneVolume("src", "s", "c3"));
        assertTrue(!engine.exists("c3"));
        SnapshotExistsException reserved = assertThrows(SnapshotExistsException.class, () -> engine.createSnapshot("src", "s"));
        assertTrue(reserved.getMessage().contains("reserved") && reserved.getMessage().contains("c2"), reserved.getMessage());
        try (LogStructuredVolume c = engine.openReadOnly("c1", OPTS)) {
            VolumeImages.assertMatches(c, new byte[SIZE], "clone of a deleted snapshot");
        }
        engine.deleteVolume("c1");
        assertTrue(engine.store().list("volumes/src/snapshots/s").size() > 1, "still kept for c2");
        engine.deleteVolume("c2");
        assertEquals(List.of(), engine.store().list("volumes/src/snapshots/"), "the last clone's delete finished s's");
        engine.createSnapshot("src", "s"); // the name is free again
    }

    @Test
    void cloneRefusesASnapshotBeingDeleted() throws Exception {
        StrataEngine engine = engine();
        engine.createVolume("src", SIZE);
        engine.createSnapshot("src", "s");
        // A delete that crashed after its marker: clones are refused, their reference is removed.
        engine.store().put("volumes/src/snapshots/s.deleting", java.nio.ByteBuffer.wrap(new byte[1]));
        assertThrows(SnapshotNotFoundException.class, () -> engine.cloneVolume("src", "s", "c"));
        assertEquals(List.of(), engine.clonesOf("src", "s"));
        assertTrue(!engine.exists("c"));
        // Releasing that reference (the last one of a marked snapshot) finished the interrupted delete.
        assertEquals(List.of(), engine.listSnapshots("src"));
        assertEquals(List.of(), engine.store().list("volumes/src/snapshots/"));
    }
}
