package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Map checkpoints are an optimisation, never the only copy: a corrupt or truncated newest
 * checkpoint falls back to the one before, and with none at all the volume is rebuilt from
 * object headers — the same data every time.
 */
class CheckpointFallbackTest {
    @TempDir
    Path tmp;

    @Test
    void corruptOrMissingCheckpointsStillOpenToTheSameData() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine engine = new StrataEngine(store, tmp.resolve("node"), "n1");
        engine.createVolume("v", 64L << 20);
        VolumeOptions opts = VolumeOptions.defaults().withObjectBytes(64 * 1024).withCheckpointEveryObjects(2)
                .withSealAfter(Duration.ofMillis(20));
        Random r = new Random(5);
        byte[] image = new byte[64 << 20];
        try (LogStructuredVolume v = engine.openForWrite("v", opts, false)) {
            for (int i = 0; i < 400; i++) {
                byte[] d = new byte[4096 * (1 + r.nextInt(8))];
                r.nextBytes(d);
                long off = (long) r.nextInt((image.length - d.length) / 4096) * 4096;
                v.write(off, ByteBuffer.wrap(d), false);
                System.arraycopy(d, 0, image, (int) off, d.length);
                if (i % 50 == 0) {
                    v.flushToBucket();
                    v.checkpoint();
                }
            }
        }
        VolumeKeys keys = new VolumeKeys("v");
        List<ObjectInfo> cps = store.list(keys.checkpointsPrefix());
        assertTrue(cps.size() >= 2, "two checkpoints kept: " + cps);
        assertSame(image, engine, opts);

        // Newest checkpoint: flipped byte.
        String newest = cps.getLast().key();
        byte[] b = store.get(newest);
        b[b.length / 2] ^= 1;
        store.put(newest, ByteBuffer.wrap(b));
        assertSame(image, engine, opts);

        // Newest truncated, older one flipped too: rebuilt from headers alone.
        store.put(newest, ByteBuffer.wrap(java.util.Arrays.copyOf(b, b.length / 3)));
        String older = cps.get(cps.size() - 2).key();
        byte[] o = store.get(older);
        o[10] ^= 1;
        store.put(older, ByteBuffer.wrap(o));
        assertSame(image, engine, opts);

        for (ObjectInfo cp : store.list(keys.checkpointsPrefix())) {
            store.delete(cp.key());
        }
        assertSame(image, engine, opts);
    }

    private static void assertSame(byte[] image, StrataEngine engine, VolumeOptions opts) throws Exception {
        try (LogStructuredVolume ro = engine.openReadOnly("v", opts)) {
            ByteBuffer all = ByteBuffer.allocate(image.length);
            ro.read(0, all);
            assertArrayEquals(image, all.array());
        }
    }
}
