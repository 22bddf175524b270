package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.engine.objectlog.Batch;
import dev.strata.engine.objectlog.BufferPool;
import dev.strata.engine.objectlog.ObjectReader;
import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Real objects in a real {@link LocalDirectoryObjectStore}, read through an {@link ObjectReader}
 * with a real cache: the bytes of object {@code seq} at data offset {@code i} are
 * {@link #expected}, so any read can be checked.
 */
final class CacheFixture implements AutoCloseable {
    static final String VOLUME_ID = "6f1c2b9e-4d1a-4e5b-9c3d-2a7b8c9d0e1f";
    static final int BLOCK = 64 * 1024;
    static final long EPOCH = 1;

    final Path dir;
    final ObjectStore store;
    final VolumeKeys keys = new VolumeKeys("cachetest");
    ReadCache cache;
    ObjectReader reader;

    CacheFixture(Path dir) {
        this.dir = dir;
        this.store = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    }

    Path cacheDir() {
        return dir.resolve("cache");
    }

    static ReadCacheConfig config(Path cacheDir, long sizeBytes, int shards, EvictionPolicy.Kind policy) {
        return ReadCacheConfig.defaults(cacheDir, sizeBytes).withShards(shards).withPolicy(policy)
                .withPersistEvery(Duration.ofMillis(20));
    }

    /** (Re)opens the cache and a fresh reader (with an empty header LRU) on it. */
    CacheFixture open(ReadCacheConfig config) throws IOException {
        cache = ReadCache.open(config);
        reader = new ObjectReader(store, keys, 64);
        reader.useCache(cache, VOLUME_ID);
        return this;
    }

    static byte expected(long seq, long offset) {
        long x = seq * 0x9E3779B97F4A7C15L + (offset / 8) * 0xBF58476D1CE4E5B9L;
        x ^= x >>> 29;
        return (byte) (x >>> (8 * (offset % 8)));
    }

    /** Stores object {@code seq} with {@code dataBytes} bytes (a multiple of 512) of its pattern. */
    void writeObject(long seq, int dataBytes) throws IOException {
        store.put(keys.object(seq, EPOCH), batch(seq, dataBytes, dataBytes).encodeObject());
    }

    /**
     * Stores object {@code seq} as {@link #writeObject} does, its data written in writes of
     * {@code writeBytes} to scattered LBAs, and hands it to the open cache as the uploader does.
     */
    void writeObjectAndFillUploaded(long seq, int dataBytes, int writeBytes) throws IOException {
        Batch b = batch(seq, dataBytes, writeBytes);
        store.put(keys.object(seq, EPOCH), b.encodeObject());
        reader.cacheUploaded(b);
    }

    private static Batch batch(long seq, int dataBytes, int writeBytes) {
        Batch b = new Batch(seq, EPOCH, new BufferPool(dataBytes, 1), Math.max(16, dataBytes / writeBytes));
        ByteBuffer src = ByteBuffer.allocate(dataBytes);
        for (int i = 0; i < dataBytes; i++) {
            src.put(i, expected(seq, i));
        }
        for (int at = 0, w = 0; at < dataBytes; at += writeBytes, w++) {
            // Every other run of sectors: writes that do not continue each other.
            b.addWrite(seq * 1000 + w, 2L * w * (writeBytes / 512), src.slice(at, Math.min(writeBytes, dataBytes - at)));
        }
        return b;
    }

    /** Loads the header so that later GET counts are data GETs only. */
    void warmHeader(long seq) throws IOException {
        reader.header(seq, EPOCH);
    }

    /** Reads [offset, offset+length) of object seq and checks every byte. */
    void readAndCheck(long seq, long offset, int length) throws IOException {
        ByteBuffer dst = ByteBuffer.allocate(length + 16);
        dst.position(7); // not at 0: the cache must honour the buffer's position
        readAndCheck(seq, offset, length, dst);
    }

    /** Reads [offset, offset+length) of object seq into {@code dst} at its position and checks every byte. */
    void readAndCheck(long seq, long offset, int length, ByteBuffer dst) throws IOException {
        int at = dst.position();
        reader.read(seq, EPOCH, offset, dst, length);
        assertEquals(at + length, dst.position(), "position advanced by the length read");
        for (int i = 0; i < length; i++) {
            if (dst.get(at + i) != expected(seq, offset + i)) {
                throw new AssertionError("object " + seq + " byte " + (offset + i) + ": expected " + expected(seq, offset + i)
                        + " got " + dst.get(at + i));
            }
        }
    }

    long dataGets() {
        return store.stats().rangedGets.sum();
    }

    BlockKey key(long seq, int block) {
        java.util.UUID id = java.util.UUID.fromString(VOLUME_ID);
        return new BlockKey(id.getMostSignificantBits(), id.getLeastSignificantBits(), seq, EPOCH, block);
    }

    /** What one of {@link #concurrently}'s threads does. */
    interface ThreadBody {
        void run(int thread) throws Exception;
    }

    /**
     * Runs {@code body} on {@code threads} platform threads released together, waits for all, and
     * fails with the first failure.
     */
    static void concurrently(int threads, ThreadBody body) throws InterruptedException {
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.List<Thread> ts = new java.util.ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    body.run(id);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        start.countDown();
        for (Thread t : ts) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }

    void closeCache() throws IOException {
        if (cache != null) {
            cache.close();
            cache = null;
        }
    }

    @Override
    public void close() throws IOException {
        closeCache();
        store.close();
    }
}
