package dev.strata.engine.volume;

import static dev.strata.engine.volume.FilledBlocks.block;
import static dev.strata.engine.volume.FilledBlocks.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deleting a volume removes every key of it and its local journal; it is refused while a writer
 * holds the volume; while a clone reads through one of its snapshots only what the clone needs
 * stays, until the clone is deleted; an interrupted delete leaves the volume unopenable and its
 * name unusable until a second delete finishes it.
 */
class VolumeDeletionTest {
    @TempDir
    Path tmp;

    private static void write(StrataEngine e, String name, int value) throws Exception {
        try (LogStructuredVolume v = e.openForWrite(name, VolumeOptions.defaults(), false)) {
            v.write(0, block(value), false);
            v.write(1 << 20, block(value), false);
        }
    }

    @Test
    void deleteRemovesEveryKeyAndTheJournalAndTheNameCanBeReused() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine e = new StrataEngine(store, tmp.resolve("node"), "n1");
        e.createVolume("v", 4 << 20);
        write(e, "v", 7);
        e.createSnapshot("v", "s1");
        write(e, "v", 8);
        VolumeKeys keys = new VolumeKeys("v");
        assertFalse(store.list(keys.prefix()).isEmpty());
        assertTrue(Files.isDirectory(tmp.resolve("node/volumes/v")));

        e.deleteVolume("v");
        assertTrue(store.list(keys.prefix()).isEmpty(), "left: " + store.list(keys.prefix()));
        assertFalse(Files.exists(tmp.resolve("node/volumes/v")), "the local journal is gone");
        assertFalse(e.exists("v"));
        assertThrows(VolumeNotFoundException.class, () -> e.deleteVolume("v"));

        e.createVolume("v", 4 << 20);
        try (LogStructuredVolume v = e.openForWrite("v", VolumeOptions.defaults(), false)) {
            assertArrayEquals(new byte[4096], read(v, 0), "a new volume of the old name starts empty");
        }
    }

    @Test
    void deleteIsRefusedWhileAWriterHoldsTheVolume() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine a = new StrataEngine(store, tmp.resolve("a"), "node-a");
        StrataEngine b = new StrataEngine(store, tmp.resolve("b"), "node-b");
        a.createVolume("v", 4 << 20);
        try (LogStructuredVolume v = a.openForWrite("v", VolumeOptions.defaults(), false)) {
            v.write(0, block(1), false);
            VolumeLockedException held = assertThrows(VolumeLockedException.class, () -> b.deleteVolume("v"));
            assertTrue(held.getMessage().contains("node-a"), held.getMessage());
            assertThrows(VolumeLockedException.class, () -> a.deleteVolume("v"));
        }
        b.deleteVolume("v"); // released now
        assertFalse(b.exists("v"));
    }

    @Test
    void aDeletedVolumeKeepsOnlyWhatItsClonesReadUntilTheLastOneGoes() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine e = new StrataEngine(store, tmp.resolve("node"), "n1");
        e.createVolume("src", 4 << 20);
        write(e, "src", 3);
        e.createSnapshot("src", "s");
        write(e, "src", 4); // overwrites both blocks: objects s does not need
        e.createSnapshot("src", "unused");
        e.cloneVolume("src", "s", "copy");
        VolumeKeys keys = new VolumeKeys("src");
        int objectsBefore = store.list(keys.objectsPrefix()).size();

        e.deleteVolume("src");
        assertFalse(e.exists("src"));
        assertFalse(e.listVolumes().contains("src"));
        VolumeNotFoundException gone = assertThrows(VolumeNotFoundException.class,
                () -> e.openReadOnly("src", VolumeOptions.defaults()));
        assertTrue(gone.getMessage().contains("copy"), gone.getMessage());
        VolumeExistsException reserved = assertThrows(VolumeExistsException.class, () -> e.createVolume("src", 4 << 20));
        assertTrue(reserved.getMessage().contains("copy") && reserved.getMessage().contains("reserved"), reserved.getMessage());
        assertThrows(VolumeNotFoundException.class, () -> e.openSnapshot("src", "s"));
        assertThrows(VolumeNotFoundException.class, () -> e.deleteSnapshot("src", "s"));
        assertThrows(SnapshotNotFoundException.class, () -> e.cloneVolume("src", "s", "copy2"));
        assertFalse(e.exists("copy2"));
        assertEquals(List.of("copy (via src@s)"), e.clonesKeepingRemains("src"));
        // Kept: the marker, the superblock, s's record, map and reference, and s's objects only.
        List<String> left = store.list(keys.prefix()).stream().map(ObjectInfo::key).toList();
        assertTrue(left.contains(keys.deleting()) && left.contains(keys.superblock()) && left.contains(keys.snapshot("s"))
                && left.contains(keys.snapshotRef("s", "copy")), left.toString());
        assertTrue(left.stream().noneMatch(k -> k.contains("/epochs/") || k.contains("/checkpoints/") || k.contains("unused")),
                left.toString());
        int objectsKept = store.list(keys.objectsPrefix()).size();
        assertTrue(objectsKept >= 1 && objectsKept < objectsBefore, objectsKept + " of " + objectsBefore);
        try (LogStructuredVolume c = e.openReadOnly("copy", VolumeOptions.defaults())) {
            assertArrayEquals(block(3).array(), read(c, 0), "the clone still reads through");
        }
        e.deleteVolume("src"); // again: harmless, keeps the remains
        assertTrue(Snapshots.exists(store, keys.superblock()));

        e.deleteVolume("copy");
        assertTrue(store.list(VolumeKeys.volumesRoot()).isEmpty(), "left: " + store.list(VolumeKeys.volumesRoot()));
        e.createVolume("src", 4 << 20);
    }

    @Test
    void anInterruptedDeleteBlocksOpenAndCreateUntilASecondDeleteFinishesIt() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine e = new StrataEngine(store, tmp.resolve("node"), "n1");
        e.createVolume("v", 4 << 20);
        write(e, "v", 5);
        VolumeKeys keys = new VolumeKeys("v");
        // The delete crashed after its marker and some keys: objects gone, superblock still there.
        store.put(keys.deleting(), ByteBuffer.wrap("deleting\n".getBytes()));
        List<ObjectInfo> objects = store.list(keys.objectsPrefix());
        assertFalse(objects.isEmpty());
        for (ObjectInfo o : objects) {
            store.delete(o.key());
        }
        VolumeNotFoundException gone = assertThrows(VolumeNotFoundException.class,
                () -> e.openForWrite("v", VolumeOptions.defaults(), false));
        assertTrue(gone.getMessage().contains("being deleted"), gone.getMessage());
        assertThrows(VolumeNotFoundException.class, () -> e.openReadOnly("v", VolumeOptions.defaults()));
        assertThrows(VolumeExistsException.class, () -> e.createVolume("v", 4 << 20));

        e.deleteVolume("v");
        assertTrue(store.list(keys.prefix()).isEmpty());
        e.createVolume("v", 4 << 20);
        assertTrue(e.exists("v"));
    }

    @Test
    void leftoverKeysWithoutASuperblockBlockReuseOfTheName() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine e = new StrataEngine(store, tmp.resolve("node"), "n1");
        e.createVolume("v", 4 << 20);
        write(e, "v", 9);
        VolumeKeys keys = new VolumeKeys("v");
        store.delete(keys.superblock()); // e.g. a crash of a delete before it wrote its marker, in an older version
        VolumeExistsException leftovers = assertThrows(VolumeExistsException.class, () -> e.createVolume("v", 4 << 20));
        assertTrue(leftovers.getMessage().contains("leftover"), leftovers.getMessage());
        e.deleteVolume("v");
        assertTrue(store.list(keys.prefix()).isEmpty());
    }
}
