package dev.strata.engine.volume;

import static dev.strata.engine.volume.FilledBlocks.block;
import static dev.strata.engine.volume.FilledBlocks.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * At most one writer: a second open for writing is refused naming the holder; a take-over
 * fences the old epoch; the stale writer's later uploads are never part of the volume and it
 * stops accepting writes once it notices.
 */
class SingleWriterFencingTest {
    @TempDir
    Path tmp;

    @Test
    void staleWriterIsFencedAndItsLaterObjectsAreNeverReplayed() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine a = new StrataEngine(store, tmp.resolve("a"), "node-a");
        StrataEngine b = new StrataEngine(store, tmp.resolve("b"), "node-b");
        a.createVolume("v", 1 << 20);
        VolumeOptions opts = VolumeOptions.defaults();

        LogStructuredVolume va = a.openForWrite("v", opts, false);
        va.write(0, block(1), false);
        va.flushToBucket();

        VolumeLockedException refused = assertThrows(VolumeLockedException.class, () -> b.openForWrite("v", opts, false));
        assertTrue(refused.getMessage().contains("node-a"), "names the holder: " + refused.getMessage());
        assertTrue(refused.holder().contains("node-a"), refused.holder());

        try (LogStructuredVolume ro = b.openReadOnly("v", opts)) { // read-only opens are always allowed
            assertArrayEquals(block(1).array(), read(ro, 0));
        }

        LogStructuredVolume vb = b.openForWrite("v", opts, true); // node a is "gone": take over
        assertEquals(va.epoch() + 1, vb.epoch());
        assertArrayEquals(block(1).array(), read(vb, 0));

        // The stale writer has not noticed yet: it writes and uploads under its old epoch.
        va.write(4096, block(2), false);
        va.write(0, block(3), false);
        va.flushToBucket();
        va.checkFence();
        assertThrows(VolumeFencedException.class, () -> va.write(8192, block(4), false));

        vb.write(12288, block(5), false);
        vb.close();
        va.close(); // a fenced writer closes without uploading or releasing anything

        StrataEngine c = new StrataEngine(store, tmp.resolve("c"), "node-c");
        try (LogStructuredVolume vc = c.openForWrite("v", opts, false)) { // b released it cleanly
            assertArrayEquals(block(1).array(), read(vc, 0), "the stale writer's overwrite is not replayed");
            assertArrayEquals(new byte[4096], read(vc, 4096), "the stale writer's new block is not replayed");
            assertArrayEquals(block(5).array(), read(vc, 12288));
        }
        assertTrue(store.list(new VolumeKeys("v").objectsPrefix()).stream().anyMatch(o -> o.key().endsWith(VolumeKeys.hex(va.epoch()))),
                "the stale writer did upload objects (which were then ignored)");
    }

    @Test
    void aSecondProcessOnTheSameNodeIsRefused() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine a = new StrataEngine(store, tmp.resolve("a"), "node-a");
        a.createVolume("v", 1 << 20);
        try (LogStructuredVolume va = a.openForWrite("v", VolumeOptions.defaults(), false)) {
            StrataEngine again = new StrataEngine(store, tmp.resolve("a"), "node-a");
            assertThrows(VolumeLockedException.class, () -> again.openForWrite("v", VolumeOptions.defaults(), true));
        }
    }
}
