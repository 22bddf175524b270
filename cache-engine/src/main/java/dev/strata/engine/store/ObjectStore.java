package dev.strata.engine.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A flat key/value store of immutable objects: the durable home of every volume.
 *
 * <p>Two real implementations: {@link LocalDirectoryObjectStore} (the embedded default) and
 * {@link S3ObjectStore} (any S3 API). Keys are '/'-separated paths of printable ASCII
 * ({@code [A-Za-z0-9._/-]}); listing returns keys in ascending byte order, which is why the
 * engine zero-pads every number it writes into a key.
 *
 * <p>Every method is safe to call from many threads at once. Errors are
 * {@link ObjectStoreException}s naming the store and the key.
 */
public interface ObjectStore extends AutoCloseable {

    /** Stores {@code data} (its remaining bytes) under {@code key}, replacing any object there. Atomic: readers see the old or the new object, never a mix. */
    void put(String key, ByteBuffer data) throws IOException;

    /**
     * Creates {@code key} only if no object exists there (S3 {@code If-None-Match: *}).
     *
     * @return true if this call created it, false if an object already existed (nothing written)
     */
    boolean putIfAbsent(String key, ByteBuffer data) throws IOException;

    /** The whole object. @throws NoSuchObjectException if there is none */
    byte[] get(String key) throws IOException;

    /**
     * Reads up to {@code dst.remaining()} bytes starting at {@code offset} of the object into
     * {@code dst} (a ranged GET). Returns the number of bytes read, which is smaller than asked
     * only when the object ends first; -1 if {@code offset} is at or past its end.
     *
     * @throws NoSuchObjectException if there is no object
     */
    int getRange(String key, long offset, ByteBuffer dst) throws IOException;

    /** Every object whose key starts with {@code prefix}, in ascending key order. */
    List<ObjectInfo> list(String prefix) throws IOException;

    /**
     * Every object whose key starts with {@code prefix} and sorts after {@code startAfter}, in
     * ascending key order: where the store can seek (S3's {@code start-after}), a listing that
     * costs the keys after it, not every key under the prefix (opening a volume lists only the
     * objects after its checkpoint). This default filters {@link #list}. {@code startAfter} null:
     * every key under the prefix.
     */
    default List<ObjectInfo> listAfter(String prefix, String startAfter) throws IOException {
        List<ObjectInfo> all = list(prefix);
        if (startAfter == null) {
            return all;
        }
        int from = 0;
        while (from < all.size() && all.get(from).key().compareTo(startAfter) <= 0) {
            from++;
        }
        return from == 0 ? all : new java.util.ArrayList<>(all.subList(from, all.size()));
    }

    /** Deletes {@code key}; deleting a missing key is not an error. */
    void delete(String key) throws IOException;

    /** Request and byte counters of this store since it was opened. */
    ObjectStoreStats stats();

    /** A short human description for logs and errors, e.g. {@code s3://bucket/prefix} or {@code file:///data/objects}. */
    String describe();

    @Override
    void close() throws IOException;
}
