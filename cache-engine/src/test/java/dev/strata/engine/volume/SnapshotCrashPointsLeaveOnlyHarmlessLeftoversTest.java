package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash-point table of docs/snapshots-and-clones.md: what each interrupted operation leaves
 * in the bucket (made here by writing exactly those keys) is harmless or blocks only what the
 * table says, with an error naming the key.
 */
class SnapshotCrashPointsLeaveOnlyHarmlessLeftoversTest {
    @TempDir
    Path tmp;

    @Test
    void leftoversOfInterruptedSnapshotCloneAndDelete() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine engine = new StrataEngine(store, tmp.resolve("node"), "n1");
        VolumeKeys keys = new VolumeKeys("v");
        engine.createVolume("v", 1 << 20);
        byte[] image = new byte[1 << 20];
        try (LogStructuredVolume v = engine.openForWrite("v", VolumeOptions.defaults(), false)) {
            VolumeImages.write(v, image, 0, VolumeImages.random(new Random(4), 64 * 1024));
        }

        // Crash after the map PUT, before the record: an orphan map; the name is free.
        store.put(keys.snapshotMap("s", "0000000000000000"), ByteBuffer.wrap(new byte[] {1, 2, 3}));
        assertEquals(List.of(), engine.listSnapshots("v"));
        assertThrows(SnapshotNotFoundException.class, () -> engine.openSnapshot("v", "s"));
        engine.createSnapshot("v", "s");
        try (SnapshotView s = engine.openSnapshot("v", "s")) {
            VolumeImages.assertMatches(s, image, "snapshot next to an orphan map");
        }

        // Crash after the clone's reference, before its superblock: no clone; deleting s hides it but
        // keeps it for the reference, which the answer names.
        store.put(keys.snapshotRef("s", "ghost"), ByteBuffer.wrap(new byte[] {1}));
        assertFalse(engine.exists("ghost"));
        assertEquals(List.of("ghost"), engine.deleteSnapshot("v", "s"));
        assertEquals(List.of(), engine.listSnapshots("v"));
        // Removing the reference by hand (the documented way out) and deleting again finishes it.
        store.delete(keys.snapshotRef("s", "ghost"));

        // Crash of a delete after its marker (here an old free-text one): clones are refused.
        store.put(keys.snapshotDeleting("s"), ByteBuffer.wrap(new byte[] {1}));
        assertThrows(SnapshotNotFoundException.class, () -> engine.cloneVolume("v", "s", "c"));
        assertFalse(engine.exists("c"));
        // The refused clone released the last reference of the marked snapshot: that finished the delete.
        assertEquals(List.of(), engine.listSnapshots("v"));
        assertThrows(SnapshotNotFoundException.class, () -> engine.deleteSnapshot("v", "s"));
        assertTrue(store.list(keys.snapshotsPrefix()).stream().noneMatch(i -> i.key().contains(".deleting")));
    }
}
