package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.ForwardingObjectStore;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A volume's open replays the objects after its newest checkpoint, and lists only those: on S3 a
 * listing costs a request per 1000 keys, so listing every object a 1 TiB volume has (131,072 of
 * 8 MiB) took 131 requests in a row at every attach, for keys the open then skipped.
 */
class OpeningAVolumeListsOnlyTheObjectsAfterItsCheckpointTest {
    @TempDir
    Path tmp;

    /** Counts the object keys that listings of the volume's objects return. */
    private static final class ListedObjectKeys extends ForwardingObjectStore {
        final AtomicLong keys = new AtomicLong();
        final String objectsPrefix;

        ListedObjectKeys(ObjectStore store, String objectsPrefix) {
            super(store);
            this.objectsPrefix = objectsPrefix;
        }

        @Override
        public List<ObjectInfo> list(String prefix) throws IOException {
            return counted(prefix, delegate.list(prefix));
        }

        @Override
        public List<ObjectInfo> listAfter(String prefix, String startAfter) throws IOException {
            return counted(prefix, delegate.listAfter(prefix, startAfter));
        }

        private List<ObjectInfo> counted(String prefix, List<ObjectInfo> listed) {
            if (prefix.equals(objectsPrefix)) {
                keys.addAndGet(listed.size());
            }
            return listed;
        }
    }

    @Test
    void anOpenListsTheObjectsItReplaysNotEveryObjectTheVolumeHas() throws Exception {
        VolumeKeys keys = new VolumeKeys("v");
        ListedObjectKeys store = new ListedObjectKeys(new LocalDirectoryObjectStore(tmp.resolve("bucket")), keys.objectsPrefix());
        StrataEngine engine = new StrataEngine(store, tmp.resolve("node"), "n1");
        engine.createVolume("v", 16L << 20);
        VolumeOptions opts = VolumeOptions.defaults().withObjectBytes(64 * 1024).withSealAfter(Duration.ofMillis(20));
        byte[] image = new byte[16 << 20];
        Random r = new Random(3);
        LogStructuredVolume v = engine.openForWrite("v", opts, false);
        for (int i = 0; i < 48; i++) { // 48 objects of 64 KiB
            byte[] d = new byte[64 * 1024];
            r.nextBytes(d);
            long off = (long) r.nextInt(image.length / d.length) * d.length;
            v.write(off, ByteBuffer.wrap(d), false);
            System.arraycopy(d, 0, image, (int) off, d.length);
            v.flushToBucket();
        }
        v.checkpoint();
        for (int i = 0; i < 3; i++) { // three more after the checkpoint
            byte[] d = new byte[64 * 1024];
            r.nextBytes(d);
            v.write((long) i * d.length, ByteBuffer.wrap(d), false);
            System.arraycopy(d, 0, image, i * d.length, d.length);
            v.flushToBucket();
        }
        v.crashForTest(false); // no checkpoint at close
        int total = store.list(keys.objectsPrefix()).size();
        assertTrue(total >= 51, "objects in the bucket: " + total);

        store.keys.set(0);
        try (LogStructuredVolume ro = engine.openReadOnly("v", opts)) {
            assertTrue(store.keys.get() <= 3, "the open listed " + store.keys.get() + " object keys of " + total);
            ByteBuffer all = ByteBuffer.allocate(image.length);
            ro.read(0, all);
            assertArrayEquals(image, all.array(), "the objects after the checkpoint were replayed");
        }
        store.keys.set(0);
        try (LogStructuredVolume w = engine.openForWrite("v", opts, true)) {
            assertTrue(store.keys.get() <= 3, "the open for writing listed " + store.keys.get() + " object keys of " + total);
            ByteBuffer all = ByteBuffer.allocate(image.length);
            w.read(0, all);
            assertArrayEquals(image, all.array());
        }
        assertEquals(total, store.list(keys.objectsPrefix()).size(), "nothing deleted");
    }
}
