package dev.strata.engine.objectlog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.store.ForwardingObjectStore;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The uploader encodes each object into one of at most {@code maxInFlight} direct buffers it
 * reuses, not into a new 8 MiB heap array per object, and what reaches the bucket is still
 * exactly the object: header, then data, byte for byte.
 */
class UploadsReuseTheirEncodeBuffersTest {
    @TempDir
    Path tmp;

    @Test
    void twentyObjectsTwoInFlightUseAtMostTwoBuffersAndArriveIntact() throws Exception {
        VolumeKeys keys = new VolumeKeys("v");
        Set<Long> bufferAddresses = ConcurrentHashMap.newKeySet();
        List<String> notDirect = new ArrayList<>();
        try (LocalDirectoryObjectStore bucket = new LocalDirectoryObjectStore(tmp.resolve("bucket"))) {
            ForwardingObjectStore recording = new ForwardingObjectStore(bucket) {
                @Override
                public boolean putIfAbsent(String key, ByteBuffer data) throws IOException {
                    if (data.isDirect()) {
                        bufferAddresses.add(MemorySegment.ofBuffer(data).address() - data.position());
                    } else {
                        synchronized (notDirect) {
                            notDirect.add(key);
                        }
                    }
                    return super.putIfAbsent(key, data);
                }
            };
            ObjectUploader uploader = new ObjectUploader(recording, keys, 2, 1, b -> {});
            BufferPool pool = new BufferPool(256 << 10, 4);
            List<Batch> batches = new ArrayList<>();
            SplittableRandom r = new SplittableRandom(7);
            for (int seq = 1; seq <= 20; seq++) {
                Batch b = new Batch(seq, 1, pool, 64);
                for (int w = 0; w < 8; w++) { // objects of a volume are about one size
                    byte[] d = new byte[16 << 10];
                    r.nextBytes(d);
                    b.addWrite(seq * 100L + w, r.nextLong(1 << 20), ByteBuffer.wrap(d));
                }
                batches.add(b);
                uploader.submit(b);
            }
            uploader.awaitUploaded(20);

            assertTrue(notDirect.isEmpty(), "objects PUT from heap copies: " + notDirect);
            assertTrue(bufferAddresses.size() <= 2, "encode buffers: " + bufferAddresses.size() + " for 20 objects, 2 in flight");
            for (Batch b : batches) {
                String key = keys.object(b.objectSeq(), 1);
                byte[] expected = bytes(b.encodeObject());
                assertArrayEquals(expected, bucket.get(key), key);
            }
            assertEquals(20, uploader.objectsUploaded.sum());
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }
}
