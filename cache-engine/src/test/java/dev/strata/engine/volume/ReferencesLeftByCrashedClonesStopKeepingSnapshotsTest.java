package dev.strata.engine.volume;

import static dev.strata.engine.volume.FilledBlocks.block;
import static dev.strata.engine.volume.FilledBlocks.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.ForwardingObjectStore;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A clone creation that crashed between its reference and its superblock leaves a reference with
 * no clone. It keeps the snapshot while a creation could still be in progress, and stops keeping it
 * once it is older than {@link Snapshots#STALE_REFERENCE} (a delete resumed later judges it
 * again): a snapshot delete or volume delete then removes the snapshot. A reference of a clone
 * that exists keeps it however old. A creation that really was paused that long finds, after
 * writing its superblock, that its snapshot went, and undoes itself: no clone ever reads a deleted
 * snapshot
 * (docs/snapshots-and-clones.md, "References left by a crashed clone").
 */
class ReferencesLeftByCrashedClonesStopKeepingSnapshotsTest {
    private static final VolumeKeys SRC = new VolumeKeys("v");

    @TempDir
    Path tmp;

    /** A store that runs {@code beforeSuperblockOf} once, just before the superblock of volume {@code clone} is created. */
    private static final class PausingStore extends ForwardingObjectStore {
        volatile String clone;
        volatile IoAction beforeSuperblock;

        PausingStore(ObjectStore store) {
            super(store);
        }

        @Override
        public boolean putIfAbsent(String key, ByteBuffer data) throws IOException {
            IoAction action = beforeSuperblock;
            if (clone != null && key.equals(new VolumeKeys(clone).superblock()) && action != null) {
                beforeSuperblock = null;
                action.run();
            }
            return super.putIfAbsent(key, data);
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private PausingStore store;
    private StrataEngine engine;

    private void volumeWithSnapshot() throws IOException {
        store = new PausingStore(new LocalDirectoryObjectStore(tmp.resolve("bucket")));
        engine = new StrataEngine(store, tmp.resolve("node"), "node-a");
        engine.createVolume("v", 1 << 20);
        try (LogStructuredVolume v = engine.openForWrite("v", VolumeOptions.defaults(), false)) {
            v.write(0, block(7), false);
        }
        engine.createSnapshot("v", "s");
    }

    /** A clone creation of v@s into {@code clone} that dies right before its superblock. */
    private void crashedCloneCreation(String clone) throws IOException {
        store.clone = clone;
        store.beforeSuperblock = () -> {
            throw new IOException("injected: the process died before creating " + clone + "'s superblock");
        };
        assertThrows(IOException.class, () -> engine.cloneVolume("v", "s", clone));
        assertTrue(keys(SRC.snapshotRefsPrefix("s")).contains(SRC.snapshotRef("s", clone)), "the reference is left behind");
        assertFalse(engine.exists(clone));
    }

    /** Makes {@code key} look written two hours ago (the local store's listing time is the file's). */
    private void ageByTwoHours(String key) throws IOException {
        Files.setLastModifiedTime(tmp.resolve("bucket").resolve(key), FileTime.from(Instant.now().minusSeconds(2 * 3600)));
    }

    private List<String> keys(String prefix) throws IOException {
        return store.list(prefix).stream().map(ObjectInfo::key).toList();
    }

    @Test
    void aCrashedClonesReferenceKeepsItsSnapshotForAnHourAndThenNoLonger() throws Exception {
        volumeWithSnapshot();
        crashedCloneCreation("ghost");

        assertEquals(List.of("ghost"), engine.deleteSnapshot("v", "s"), "young: the creation may still be running");
        assertTrue(Snapshots.exists(store, SRC.snapshot("s")), "kept, hidden");

        ageByTwoHours(SRC.snapshotRef("s", "ghost"));
        assertEquals(List.of(), engine.deleteSnapshot("v", "s"), "an hour on, with no clone: a leftover");
        assertEquals(List.of(), keys(SRC.snapshotsPrefix()), "record, map, marker and the leftover reference are gone");
    }

    @Test
    void anOldReferenceOfACloneThatExistsStillKeepsItsSnapshot() throws Exception {
        volumeWithSnapshot();
        engine.cloneVolume("v", "s", "c1");
        ageByTwoHours(SRC.snapshotRef("s", "c1"));

        assertEquals(List.of("c1"), engine.deleteSnapshot("v", "s"));
        engine.deleteVolume("v");
        assertEquals(List.of("c1 (via v@s)"), engine.clonesKeepingRemains("v"));
        try (LogStructuredVolume c = engine.openReadOnly("c1", VolumeOptions.defaults())) {
            assertArrayEquals(block(7).array(), read(c, 0), "the clone reads through its (deleted) parent");
        }
        engine.deleteVolume("c1");
        assertEquals(List.of(), keys(SRC.prefix()), "the last clone gone, so are the remains");
    }

    @Test
    void aVolumeDeleteDropsAnHourOldLeftoverReference() throws Exception {
        volumeWithSnapshot();
        crashedCloneCreation("ghost");
        engine.deleteVolume("v");
        assertEquals(List.of("ghost (via v@s)"), engine.clonesKeepingRemains("v"), "young: kept");

        ageByTwoHours(SRC.snapshotRef("s", "ghost"));
        engine.deleteVolume("v");
        assertEquals(List.of(), keys(SRC.prefix()), "nothing of v is left");
        assertFalse(engine.exists("v"));
    }

    @Test
    void aCloneCreationPausedPastTheHourWhileItsSnapshotWasDeletedUndoesItself() throws Exception {
        volumeWithSnapshot();
        store.clone = "slow";
        store.beforeSuperblock = () -> { // the creator stalls for over an hour between reference and superblock
            ageByTwoHours(SRC.snapshotRef("s", "slow"));
            assertEquals(List.of(), engine.deleteSnapshot("v", "s"), "the delete judges the reference a leftover");
        };
        SnapshotNotFoundException e = assertThrows(SnapshotNotFoundException.class, () -> engine.cloneVolume("v", "s", "slow"));
        assertTrue(e.getMessage().contains("was deleted") && e.getMessage().contains("not created"), e.getMessage());
        assertFalse(engine.exists("slow"), "no clone of a deleted snapshot");
        assertEquals(List.of(), keys(new VolumeKeys("slow").prefix()));
        assertEquals(List.of(), keys(SRC.snapshotsPrefix()));
    }

    @Test
    void aCloneCreationPausedWhileItsSnapshotWasDeletedAndMadeAgainUndoesItself() throws Exception {
        volumeWithSnapshot();
        store.clone = "slow";
        store.beforeSuperblock = () -> {
            ageByTwoHours(SRC.snapshotRef("s", "slow"));
            assertEquals(List.of(), engine.deleteSnapshot("v", "s"));
            try (LogStructuredVolume v = engine.openForWrite("v", VolumeOptions.defaults(), false)) {
                v.write(0, block(9), false);
            }
            engine.createSnapshot("v", "s"); // the same name, other data
        };
        assertThrows(SnapshotNotFoundException.class, () -> engine.cloneVolume("v", "s", "slow"));
        assertFalse(engine.exists("slow"), "a clone would have read the new snapshot as if it were the old one");
        assertEquals(List.of(), engine.clonesOf("v", "s"));
    }
}
