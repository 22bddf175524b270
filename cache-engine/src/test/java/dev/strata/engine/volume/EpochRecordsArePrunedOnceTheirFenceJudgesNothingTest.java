package dev.strata.engine.volume;

import static dev.strata.engine.volume.FilledBlocks.block;
import static dev.strata.engine.volume.FilledBlocks.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writer deletes the epoch records no open needs any more, and only those (docs/format.md,
 * "Pruning epoch records"): after many clean attaches a volume keeps its newest record; a record
 * whose fence still keeps a fenced writer's uploads out of the volume stays as long as they do;
 * a record younger than GC's delete grace stays (its epoch's writer may still be uploading).
 */
class EpochRecordsArePrunedOnceTheirFenceJudgesNothingTest {
    private static final VolumeKeys KEYS = new VolumeKeys("v");
    private static final VolumeOptions NO_GRACE = VolumeOptions.defaults()
            .withGc(VolumeOptions.defaults().gc().withDeleteGrace(Duration.ZERO));

    @TempDir
    Path tmp;

    private static List<String> epochKeys(ObjectStore store) throws Exception {
        return store.list(KEYS.epochsPrefix()).stream().map(ObjectInfo::key).toList();
    }

    @Test
    void aVolumeAttachedManyTimesKeepsOnlyItsNewestRecord() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine a = new StrataEngine(store, tmp.resolve("a"), "node-a");
        StrataEngine b = new StrataEngine(store, tmp.resolve("b"), "node-b");
        a.createVolume("v", 1 << 20);
        int attaches = 12;
        for (int i = 1; i <= attaches; i++) {
            StrataEngine node = (i & 1) == 0 ? b : a; // attached on alternate nodes, as pods move
            try (LogStructuredVolume v = node.openForWrite("v", NO_GRACE, false)) {
                EpochPruner.Pruned pruned = v.awaitEpochPruning();
                assertNotNull(pruned, "the pruning ran");
                assertEquals(List.of(KEYS.epoch(i)), epochKeys(store), "after open " + i + ": only the writer's own record");
                v.write(4096L * i, block(i), false);
            }
        }
        assertEquals(List.of(KEYS.epoch(attaches), KEYS.epochReleased(attaches)), epochKeys(store));

        try (LogStructuredVolume v = a.openForWrite("v", NO_GRACE, false)) { // released: no take-over needed
            for (int i = 1; i <= attaches; i++) {
                assertArrayEquals(block(i).array(), read(v, 4096L * i), "block " + i);
            }
        }
    }

    @Test
    void aRecordIsKeptWhileItsFenceStillExcludesAFencedWritersUploads() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine a = new StrataEngine(store, tmp.resolve("a"), "node-a");
        StrataEngine b = new StrataEngine(store, tmp.resolve("b"), "node-b");
        a.createVolume("v", 1 << 20);

        LogStructuredVolume va = a.openForWrite("v", NO_GRACE, false); // epoch 1
        va.write(0, block(1), false);
        va.flushToBucket();
        LogStructuredVolume vb = b.openForWrite("v", NO_GRACE, true); // epoch 2 takes over; a does not know yet
        long fence2 = EpochRecord.decode(store.get(KEYS.epoch(2)), KEYS.epoch(2)).fenceObjectSeq();
        va.write(0, block(9), false); // uploaded above epoch 2's fence: orphans of epoch 1
        va.write(8192, block(9), false);
        va.flushToBucket();
        va.checkFence();
        va.close();
        vb.write(4096, block(2), false);
        vb.close();
        assertTrue(store.list(KEYS.objectsPrefix()).stream()
                .map(o -> VolumeKeys.parseSeqEpoch(o.key(), KEYS.objectsPrefix()))
                .anyMatch(se -> se[1] == 1 && se[0] > fence2), "the fenced writer did upload past the fence");

        for (int epoch = 3; epoch <= 6; epoch++) {
            try (LogStructuredVolume v = a.openForWrite("v", NO_GRACE, false)) {
                EpochPruner.Pruned pruned = v.awaitEpochPruning();
                assertTrue(epochKeys(store).contains(KEYS.epoch(2)), "epoch 2's record still keeps epoch 1's orphans out");
                // Record 1 went at open 2; from open 4 on, the previous epoch's record goes (its predecessor was clean).
                assertEquals(epoch == 3 ? 0 : 1, pruned.records(), "open " + epoch);
                // Judged once, by the first writer that found it past the grace; later ones leave it (orphans stay).
                assertEquals(epoch == 3 ? 1 : 0, pruned.keptForOrphans(), "open " + epoch + ": record 2 kept for epoch 1's orphans");
                assertEquals(List.of(KEYS.epoch(2), KEYS.epoch(epoch)), epochKeys(store),
                        "open " + epoch + ": every other older record and every marker is gone");
                assertArrayEquals(block(1).array(), read(v, 0), "the fenced writer's overwrite stays out");
                assertArrayEquals(block(2).array(), read(v, 4096));
                assertArrayEquals(new byte[4096], read(v, 8192), "the fenced writer's new block stays out");
            }
        }
        EpochHistory h = EpochHistory.load(store, KEYS);
        assertEquals(fence2, h.fenceOf(1), "epoch 1 is judged by epoch 2's fence, as before any pruning");
        assertFalse(h.isValid(fence2 + 1, 1));
    }

    @Test
    void recordsLeftByPruningsThatFailedAreJudgedAgainOnceTheyPileUp() throws Exception {
        boolean[] deletesFail = {true};
        ObjectStore store = new dev.strata.engine.store.ForwardingObjectStore(new LocalDirectoryObjectStore(tmp.resolve("bucket"))) {
            @Override
            public void delete(String key) throws java.io.IOException {
                if (deletesFail[0] && key.startsWith(KEYS.epochsPrefix())) {
                    throw new java.io.IOException("injected: delete of " + key + " failed");
                }
                super.delete(key);
            }
        };
        StrataEngine a = new StrataEngine(store, tmp.resolve("a"), "node-a");
        a.createVolume("v", 1 << 20);
        int opens = EpochPruner.SWEEP_ABOVE + 2;
        for (int i = 1; i <= opens; i++) {
            try (LogStructuredVolume v = a.openForWrite("v", NO_GRACE, false)) {
                v.awaitEpochPruning();
                v.write(0, block(i), false);
            }
        }
        assertEquals(opens, epochKeys(store).stream().filter(k -> !k.endsWith(".released")).count(), "every pruning failed");

        deletesFail[0] = false;
        try (LogStructuredVolume v = a.openForWrite("v", NO_GRACE, false)) {
            assertEquals(opens, v.awaitEpochPruning().records(), "more than " + EpochPruner.SWEEP_ABOVE + " records: all judged again");
            assertEquals(List.of(KEYS.epoch(opens + 1)), epochKeys(store));
            assertArrayEquals(block(opens).array(), read(v, 0));
        }
    }

    @Test
    void aRecordYoungerThanTheGraceIsKept() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine a = new StrataEngine(store, tmp.resolve("a"), "node-a");
        a.createVolume("v", 1 << 20);
        VolumeOptions hourOfGrace = VolumeOptions.defaults().withGc(VolumeOptions.defaults().gc().withDeleteGrace(Duration.ofHours(1)));
        for (int i = 1; i <= 4; i++) {
            try (LogStructuredVolume v = a.openForWrite("v", hourOfGrace, false)) {
                v.awaitEpochPruning();
                v.write(0, block(i), false);
            }
        }
        // Record 1 judges nothing (there is no epoch 0); 2 and 3 are younger than the grace; markers before 4 are never read.
        assertEquals(List.of(KEYS.epoch(2), KEYS.epoch(3), KEYS.epoch(4), KEYS.epochReleased(4)), epochKeys(store));
    }
}
