package dev.strata.engine.bench;

import dev.strata.engine.objectlog.ObjectHeader;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ForwardingObjectStore;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.store.ObjectStoreStats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Benchmark helper (GcBench): an {@link ObjectStore} decorator that counts requests and PUT bytes
 * by what they are for, which the store's own {@link ObjectStoreStats} does not tell apart:
 * data objects ({@code .../objects/}) split into normal (format 1) and GC (format 2, MOVE
 * extents) objects and each into header and data bytes, map checkpoints, and everything else.
 * It also tracks the bytes currently stored under {@code .../objects/} (space amplification).
 */
final class CountingObjectStore extends ForwardingObjectStore {
    final LongAdder puts = new LongAdder();
    final LongAdder gets = new LongAdder();
    final LongAdder getBytes = new LongAdder();
    final LongAdder lists = new LongAdder();
    final LongAdder deletes = new LongAdder();
    final LongAdder objectDeletes = new LongAdder();
    final LongAdder userObjectPuts = new LongAdder();
    final LongAdder userObjectHeaderBytes = new LongAdder();
    final LongAdder userObjectDataBytes = new LongAdder();
    final LongAdder gcObjectPuts = new LongAdder();
    final LongAdder gcObjectHeaderBytes = new LongAdder();
    final LongAdder gcObjectDataBytes = new LongAdder();
    final LongAdder checkpointPuts = new LongAdder();
    final LongAdder checkpointBytes = new LongAdder();
    final LongAdder otherPuts = new LongAdder();
    final LongAdder otherBytes = new LongAdder();
    /** Data object key to its size, for the objects now in the bucket. */
    private final ConcurrentHashMap<String, Long> objectSizes = new ConcurrentHashMap<>();
    CountingObjectStore(ObjectStore delegate) {
        super(delegate);
    }

    /** Bytes (headers and data) of the data objects now in the bucket, and how many there are. */
    long[] storedObjects() {
        long bytes = 0;
        long n = 0;
        for (long s : objectSizes.values()) {
            bytes += s;
            n++;
        }
        return new long[] {bytes, n};
    }

    private void counted(String key, ByteBuffer data) {
        long size = data.remaining();
        puts.increment();
        if (key.contains("/objects/")) {
            ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            int p = b.position();
            int version = b.getInt(p + 8);
            int headerBytes = b.getInt(p + 12);
            if (version == ObjectHeader.VERSION_MOVES) {
                gcObjectPuts.increment();
                gcObjectHeaderBytes.add(headerBytes);
                gcObjectDataBytes.add(size - headerBytes);
            } else {
                userObjectPuts.increment();
                userObjectHeaderBytes.add(headerBytes);
                userObjectDataBytes.add(size - headerBytes);
            }
            objectSizes.put(key, size);
        } else if (key.contains("/checkpoints/")) {
            checkpointPuts.increment();
            checkpointBytes.add(size);
        } else {
            otherPuts.increment();
            otherBytes.add(size);
        }
    }

    @Override
    public void put(String key, ByteBuffer data) throws IOException {
        ByteBuffer view = data.duplicate();
        delegate.put(key, data);
        counted(key, view);
    }

    @Override
    public boolean putIfAbsent(String key, ByteBuffer data) throws IOException {
        ByteBuffer view = data.duplicate();
        boolean created = delegate.putIfAbsent(key, data);
        if (created) {
            counted(key, view);
        } else {
            puts.increment(); // a request all the same
        }
        return created;
    }

    @Override
    public byte[] get(String key) throws IOException {
        gets.increment();
        byte[] b = delegate.get(key);
        getBytes.add(b.length);
        return b;
    }

    @Override
    public int getRange(String key, long offset, ByteBuffer dst) throws IOException {
        gets.increment();
        int n = delegate.getRange(key, offset, dst);
        getBytes.add(Math.max(0, n));
        return n;
    }

    @Override
    public List<ObjectInfo> list(String prefix) throws IOException {
        lists.increment();
        return delegate.list(prefix);
    }

    @Override
    public void delete(String key) throws IOException {
        deletes.increment();
        if (key.contains("/objects/")) {
            objectDeletes.increment();
            objectSizes.remove(key);
        }
        delegate.delete(key);
    }

    @Override
    public String describe() {
        return "counting " + delegate.describe();
    }
}
