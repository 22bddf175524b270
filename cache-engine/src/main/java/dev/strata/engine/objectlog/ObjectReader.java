package dev.strata.engine.objectlog;

import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.util.Crc32c;
import dev.strata.engine.volume.CorruptDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads data out of uploaded objects with ranged GETs of whole 64 KiB data blocks, each checked
 * against the CRC32C its object header lists, so corrupt bytes from the bucket become an I/O
 * error naming the object and block instead of data. Headers are kept in a small LRU.
 */
public final class ObjectReader {
    private static final int HEADER_PROBE = 64 * 1024;

    private final ObjectStore store;
    private final VolumeKeys keys;
    private final int maxHeaders;
    private final Map<Long, ObjectHeader> headers;

    public ObjectReader(ObjectStore store, VolumeKeys keys, int maxHeaders) {
        this.store = store;
        this.keys = keys;
        this.maxHeaders = maxHeaders;
        this.headers = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, ObjectHeader> eldest) {
                return size() > ObjectReader.this.maxHeaders;
            }
        };
    }

    /** Remembers a header the caller already has (a batch it just uploaded). */
    public void remember(ObjectHeader h) {
        synchronized (headers) {
            headers.put(h.objectSeq, h);
        }
    }

    public void forget(long seq) {
        synchronized (headers) {
            headers.remove(seq);
        }
    }

    /** Fetches, verifies and returns the header of object (seq, epoch). */
    public ObjectHeader header(long seq, long epoch) throws IOException {
        synchronized (headers) {
            ObjectHeader h = headers.get(seq);
            if (h != null && h.epoch == epoch) {
                return h;
            }
        }
        ObjectHeader h = fetchHeader(store, keys.object(seq, epoch));
        if (h.objectSeq != seq || h.epoch != epoch) {
            throw new CorruptDataException(keys.object(seq, epoch) + ": header names object " + h.objectSeq + " epoch " + h.epoch);
        }
        remember(h);
        return h;
    }

    /** Reads an object's header with one ranged GET (two if it is longer than 64 KiB). */
    public static ObjectHeader fetchHeader(ObjectStore store, String key) throws IOException {
        ByteBuffer probe = ByteBuffer.allocate(HEADER_PROBE);
        int n = store.getRange(key, 0, probe);
        if (n < 0) {
            throw new CorruptDataException(key + ": empty object");
        }
        probe.flip();
        int len;
        try {
            len = ObjectHeader.peekHeaderBytes(probe, key);
        } catch (IOException e) {
            throw new CorruptDataException(e.getMessage());
        }
        ByteBuffer whole = probe;
        if (len > probe.limit()) {
            whole = ByteBuffer.allocate(len);
            whole.put(probe);
            while (whole.hasRemaining()) {
                int m = store.getRange(key, whole.position(), whole);
                if (m <= 0) {
                    throw new CorruptDataException(key + ": object ends inside its header (" + whole.position() + " of " + len + " bytes)");
                }
            }
            whole.flip();
        }
        try {
            return ObjectHeader.decode(whole, key);
        } catch (IOException e) {
            throw new CorruptDataException(e.getMessage());
        }
    }

    /**
     * Copies {@code length} bytes of object (seq, epoch)'s data area from {@code offset} into
     * {@code dst} (advancing its position). Fetches the covering data blocks and verifies each.
     */
    public void read(long seq, long epoch, long offset, ByteBuffer dst, int length) throws IOException {
        ObjectHeader h = header(seq, epoch);
        if (offset < 0 || offset + length > h.dataBytes) {
            throw new CorruptDataException(keys.object(seq, epoch) + ": read of [" + offset + ", " + (offset + length)
                    + ") outside its " + h.dataBytes + " data bytes");
        }
        int bs = ObjectHeader.DATA_BLOCK_SIZE;
        long firstBlock = offset / bs;
        long lastBlock = (offset + length - 1) / bs;
        long from = firstBlock * bs;
        long to = Math.min(h.dataBytes, (lastBlock + 1) * bs);
        ByteBuffer buf = ByteBuffer.allocate((int) (to - from));
        String key = keys.object(seq, epoch);
        while (buf.hasRemaining()) {
            int n = store.getRange(key, h.headerBytes + from + buf.position(), buf);
            if (n <= 0) {
                throw new CorruptDataException(key + ": object truncated at data offset " + (from + buf.position()));
            }
        }
        for (long b = firstBlock; b <= lastBlock; b++) {
            int start = (int) (b * bs - from);
            int end = (int) Math.min(to - from, start + (long) bs);
            int crc = Crc32c.of(buf, start, end);
            if (crc != h.blockCrcs[(int) b]) {
                forget(seq);
                throw new CorruptDataException(String.format("%s: data block %d (bytes %d-%d) CRC32C mismatch (header %08x, data %08x)",
                        key, b, b * bs, b * bs + (end - start), h.blockCrcs[(int) b], crc));
            }
        }
        dst.put(dst.position(), buf, (int) (offset - from), length);
        dst.position(dst.position() + length);
    }
}
