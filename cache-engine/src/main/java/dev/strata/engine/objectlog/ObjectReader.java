package dev.strata.engine.objectlog;

import dev.strata.engine.readcache.BlockSource;
import dev.strata.engine.readcache.CachedObject;
import dev.strata.engine.readcache.ReadCache;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.util.Crc32c;
import dev.strata.engine.volume.CorruptDataException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reads data out of uploaded objects with ranged GETs of whole 64 KiB data blocks, each checked
 * against the CRC32C its object header lists, so corrupt bytes from the bucket become an I/O
 * error naming the object and block instead of data. Headers are kept in a small LRU.
 *
 * <p>With a {@link ReadCache} ({@link #useCache}), reads go through it: cached blocks come from
 * the node's disk, missing ones from one ranged GET per run of missing blocks (docs/read-cache.md).
 */
public final class ObjectReader {
    private static final System.Logger LOG = System.getLogger(ObjectReader.class.getName());
    private static final int HEADER_PROBE = 64 * 1024;
    /** Idle buffers kept for header GETs that read on into the data area. */
    private static final int LEADING_BUFFERS_KEPT = 4;

    private final ObjectStore store;
    private final VolumeKeys keys;
    private final int maxHeaders;
    private final Map<Long, ObjectHeader> headers;
    /** Header GETs in flight, by object key: joined by other callers for the same object (single flight). */
    private final ConcurrentHashMap<String, CompletableFuture<ObjectHeader>> headerFetches = new ConcurrentHashMap<>();
    /**
     * Buffers for header GETs that read on into the data area (set with the cache, whose readahead
     * run they hold); each taken by one fetch, then one run, at a time.
     */
    private volatile BufferPool leadingBuffers;
    /** Set once before reads start (or never); the volume id halves name this volume's blocks in the cache. */
    private volatile ReadCache cache;
    private volatile long cacheVolumeHigh;
    private volatile long cacheVolumeLow;

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

    /**
     * Reads through {@code cache} from now on. {@code volumeId} is the superblock's id (a UUID):
     * blocks are cached under it, so a re-created volume of the same name never hits old blocks.
     */
    public void useCache(ReadCache cache, String volumeId) {
        UUID id;
        try {
            id = UUID.fromString(volumeId);
        } catch (IllegalArgumentException e) {
            id = UUID.nameUUIDFromBytes(volumeId.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        this.cacheVolumeHigh = id.getMostSignificantBits();
        this.cacheVolumeLow = id.getLeastSignificantBits();
        this.leadingBuffers = BufferPool.ofHeap(HEADER_PROBE + LeadingData.mostDataBytes(cache), LEADING_BUFFERS_KEPT);
        this.cache = cache; // after leadingBuffers: whoever sees the cache sees its buffers
    }

    /**
     * A batch was just uploaded: queue its data and its header for the cache (the batch stays
     * pinned until the fill has copied it). Without a cache, nothing.
     */
    public void cacheUploaded(Batch b) {
        ReadCache c = cache;
        if (c == null) {
            return;
        }
        keep(b.header());
        if (b.pin()) {
            c.fillUploaded(cachedObject(b.header()), b::read, b::unpin, holdsLargeWrites(b.header()));
        }
    }

    /** A read cache block: writes this long or longer are not small random ones. */
    static final int LARGE_WRITE_BYTES = 64 * 1024;

    /**
     * Whether an object's writes average at least {@value #LARGE_WRITE_BYTES} bytes (a sequential
     * writer's, or the large-write bypass's): its fill then streams past the page cache, as a
     * sequential reader's does, instead of pushing other pages out of it.
     */
    static boolean holdsLargeWrites(ObjectHeader h) {
        return h.extentCount > 0 && h.dataBytes >= (long) h.extentCount * LARGE_WRITE_BYTES;
    }

    private CachedObject cachedObject(ObjectHeader h) {
        return new CachedObject(cacheVolumeHigh, cacheVolumeLow, h.objectSeq, h.epoch, h.dataBytes, h.blockCrcs,
                keys.object(h.objectSeq, h.epoch));
    }

    /** Remembers a header the caller already has (a batch it just uploaded). */
    public void remember(ObjectHeader h) {
        synchronized (headers) {
            headers.put(h.objectSeq, h);
        }
    }

    /** Drops the header of object {@code seq} from memory: the next read fetches it again. */
    public void forgetHeader(long seq) {
        synchronized (headers) {
            headers.remove(seq);
        }
    }

    /**
     * Object (seq, epoch) was deleted from the bucket: its header leaves memory, and its cached
     * blocks and kept header leave the node's read cache.
     */
    public void forgetDeleted(long seq, long epoch, long dataBytes) {
        forgetHeader(seq);
        ReadCache c = cache;
        if (c != null) {
            c.forgetObject(cacheVolumeHigh, cacheVolumeLow, seq, epoch, dataBytes);
        }
    }

    /**
     * Fetches, verifies and returns the header of object (seq, epoch). Concurrent callers for one
     * object share one GET (single flight): a sequential reader reaching a new object while its
     * readahead is fetching that object's header waits for that GET instead of making its own.
     */
    public ObjectHeader header(long seq, long epoch) throws IOException {
        return header(seq, epoch, null);
    }

    /**
     * {@link #header(long, long)}; if {@code leading} is not null and the header has to come from
     * the bucket, its GET also reads the start of the object's data into {@code leading}.
     */
    private ObjectHeader header(long seq, long epoch, LeadingData leading) throws IOException {
        ObjectHeader known = knownHeader(seq, epoch);
        if (known != null) {
            return known;
        }
        String key = keys.object(seq, epoch);
        CompletableFuture<ObjectHeader> mine = new CompletableFuture<>();
        CompletableFuture<ObjectHeader> theirs = headerFetches.putIfAbsent(key, mine);
        if (theirs != null) {
            ObjectHeader h = joinHeaderFetch(theirs);
            if (h != null) {
                return h;
            }
            return fetchAndRemember(seq, epoch, key, null); // the other fetch failed: ours decides (and reports)
        }
        try {
            // A fetch that finished between our first look and our registration remembered the header before it left.
            ObjectHeader h = knownHeader(seq, epoch);
            if (h == null) {
                h = fetchAndRemember(seq, epoch, key, leading);
            }
            mine.complete(h);
            return h;
        } catch (IOException | RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            headerFetches.remove(key, mine); // after remember(): a later caller finds the header known
        }
    }

    private ObjectHeader fetchAndRemember(long seq, long epoch, String key, LeadingData leading) throws IOException {
        ObjectHeader h = keptHeader(seq, epoch, key);
        if (h == null) {
            if (leading == null) {
                h = fetchHeader(store, key);
            } else {
                ByteBuffer got = leadingBuffers.take().limit(HEADER_PROBE + leading.dataBytesWanted);
                try {
                    h = fetchHeader(store, key, got);
                } catch (IOException | RuntimeException e) {
                    leadingBuffers.give(got);
                    throw e;
                }
                if (got.limit() > h.headerBytes) {
                    leading.bytes = got; // the header and, after it, the start of the data area
                } else {
                    leadingBuffers.give(got);
                }
            }
            if (h.objectSeq != seq || h.epoch != epoch) {
                throw new CorruptDataException(key + ": header names object " + h.objectSeq + " epoch " + h.epoch);
            }
            keep(h);
        }
        remember(h);
        return h;
    }

    /** The node's copy of the header (kept by the read cache), if it decodes and names this object; else null. */
    private ObjectHeader keptHeader(long seq, long epoch, String key) {
        ReadCache c = cache;
        ByteBuffer b = c == null ? null : c.cachedHeader(cacheVolumeHigh, cacheVolumeLow, seq, epoch);
        if (b == null) {
            return null;
        }
        try {
            ObjectHeader h = ObjectHeader.decode(b, key + " (the node's copy of its header)");
            if (h.objectSeq == seq && h.epoch == epoch) {
                return h;
            }
            LOG.log(System.Logger.Level.WARNING, key + ": the node's copy of its header names object " + h.objectSeq + " epoch "
                    + h.epoch + "; fetching it again");
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; fetching it again");
        }
        c.dropHeader(cacheVolumeHigh, cacheVolumeLow, seq, epoch);
        return null;
    }

    /** Has the read cache keep a copy of {@code h} on the node, for after a restart (a fresh encoding it takes over). */
    private void keep(ObjectHeader h) {
        ReadCache c = cache;
        if (c != null) {
            ByteBuffer b = ByteBuffer.allocate(h.headerBytes);
            h.encode(b);
            c.keepHeader(cacheVolumeHigh, cacheVolumeLow, h.objectSeq, h.epoch, b.flip());
        }
    }

    /** The header another caller fetched; null if its fetch failed (then the caller fetches it itself). */
    private static ObjectHeader joinHeaderFetch(CompletableFuture<ObjectHeader> f) throws InterruptedIOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for an object header");
        } catch (ExecutionException e) {
            return null; // its error may be its own (an interrupted readahead): not inherited
        }
    }

    /** The remembered header of object (seq, epoch), or null (not remembered, or another epoch's). */
    private ObjectHeader knownHeader(long seq, long epoch) {
        synchronized (headers) {
            ObjectHeader h = headers.get(seq);
            return h != null && h.epoch == epoch ? h : null;
        }
    }

    /** Reads an object's header with one ranged GET (two if it is longer than 64 KiB). */
    public static ObjectHeader fetchHeader(ObjectStore store, String key) throws IOException {
        return fetchHeader(store, key, ByteBuffer.allocate(HEADER_PROBE));
    }

    /**
     * Reads an object's header with one ranged GET of {@code probe.remaining()} bytes from the
     * object's start into {@code probe} (a second GET if the header is longer). On return
     * {@code probe} holds what the first GET read, from 0 to its limit: bytes past the header are
     * the start of the data area, unverified.
     */
    private static ObjectHeader fetchHeader(ObjectStore store, String key, ByteBuffer probe) throws IOException {
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
        ByteBuffer whole = probe.duplicate();
        if (len > probe.limit()) {
            whole = ByteBuffer.allocate(len);
            whole.put(probe.duplicate());
            probe.limit(0); // nothing of the data area came with it
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
        read(seq, epoch, offset, dst, length, true);
    }

    /** {@link #read}, without filling what it fetches into the read cache (GC: the object is about to die). */
    public void readWithoutFilling(long seq, long epoch, long offset, ByteBuffer dst, int length) throws IOException {
        read(seq, epoch, offset, dst, length, false);
    }

    private void read(long seq, long epoch, long offset, ByteBuffer dst, int length, boolean fill) throws IOException {
        ObjectHeader h = header(seq, epoch);
        if (offset < 0 || offset + length > h.dataBytes) {
            throw new CorruptDataException(keys.object(seq, epoch) + ": read of [" + offset + ", " + (offset + length)
                    + ") outside its " + h.dataBytes + " data bytes");
        }
        ReadCache c = cache;
        if (c != null) {
            BlockSource source = (obj, first, count, buf, pageCrcs) -> fetchBlocks(h, first, count, buf, pageCrcs);
            if (fill) {
                c.read(cachedObject(h), offset, dst, length, source);
            } else {
                c.readWithoutFilling(cachedObject(h), offset, dst, length, source);
            }
            return;
        }
        int bs = ObjectHeader.DATA_BLOCK_SIZE;
        int firstBlock = (int) (offset / bs);
        int lastBlock = (int) ((offset + length - 1) / bs);
        long from = (long) firstBlock * bs;
        long to = Math.min(h.dataBytes, (lastBlock + 1L) * bs);
        ByteBuffer buf = ByteBuffer.allocate((int) (to - from));
        fetchBlocks(h, firstBlock, lastBlock - firstBlock + 1, buf, null);
        dst.put(dst.position(), buf, (int) (offset - from), length);
        dst.position(dst.position() + length);
    }

    /**
     * Readahead: starts fetching {@code length} bytes of object (seq, epoch)'s data area from
     * {@code offset} into the read cache and returns at once (without a cache, does nothing). The
     * header, when not known yet, is fetched first in the background. Failures are only logged:
     * the read that later wants these bytes fetches them itself.
     */
    public void prefetch(long seq, long epoch, long offset, long length) {
        ReadCache c = cache;
        if (c == null || length <= 0) {
            return;
        }
        ObjectHeader known = knownHeader(seq, epoch);
        if (known != null) {
            prefetch(c, known, offset, length);
            return;
        }
        CompletableFuture<ObjectHeader> fetching = headerFetches.get(keys.object(seq, epoch));
        if (fetching != null) {
            // The window moved on while the header is on its way: queue behind that GET, not a second one.
            fetching.thenAccept(h -> prefetch(c, h, offset, length));
            return;
        }
        LeadingData leading = LeadingData.forPrefetch(c, offset, length);
        Thread.ofVirtual().name("read-cache-readahead-header").start(() -> {
            try {
                ObjectHeader h = header(seq, epoch, leading);
                prefetch(c, h, offset, length, leading == null ? null : leading.bytes);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "readahead of " + keys.object(seq, epoch) + " failed: " + e);
            }
        });
    }

    private void prefetch(ReadCache c, ObjectHeader h, long offset, long length) {
        prefetch(c, h, offset, length, null);
    }

    /**
     * {@code got}: the header GET's bytes when they went on into the data area (else null). The
     * first run that fits in them takes them (copies its blocks out instead of a GET) and recycles
     * the buffer; a run that does not fit never touches it, so a recycled buffer is never read. If
     * no run takes it (its blocks were cached or claimed meanwhile), the garbage collector does.
     */
    private void prefetch(ReadCache c, ObjectHeader h, long offset, long length, ByteBuffer got) {
        long end = Math.min(h.dataBytes, offset + length);
        if (offset >= end) {
            if (got != null) {
                leadingBuffers.give(got);
            }
            return;
        }
        int gotLimit = got == null ? 0 : got.limit();
        AtomicReference<ByteBuffer> untaken = new AtomicReference<>(got);
        c.prefetch(cachedObject(h), offset, end - offset, (obj, first, count, buf, pageCrcs) -> {
            ByteBuffer g;
            if (fitsInHeaderGet(h, gotLimit, first, buf) && (g = untaken.getAndSet(null)) != null) {
                buf.clear();
                buf.put(0, g, (int) (h.headerBytes + (long) first * ObjectHeader.DATA_BLOCK_SIZE), buf.limit());
                buf.position(buf.limit());
                leadingBuffers.give(g);
                verifyBlocks(h, first, count, buf, pageCrcs);
                return false;
            }
            return fetchBlocks(h, first, count, buf, pageCrcs);
        });
    }

    /**
     * What a readahead that reaches an object before its header asks of the header's GET: the data
     * area from its start to the end of the first readahead run, so that run needs no GET of its
     * own (docs/read-cache.md, "The first run rides with the header"). Only for a prefetch that
     * starts in the first half of a run: past that, more bytes the reader did not ask for would
     * ride along than a request costs. Its {@link #bytes} are set by the fetch, if it GETs.
     */
    private static final class LeadingData {
        final int dataBytesWanted;
        /** The header GET's bytes (header, then data), from 0 to the limit; null if none was made. Set and read by the readahead's header thread. */
        ByteBuffer bytes;

        private LeadingData(int dataBytesWanted) {
            this.dataBytesWanted = dataBytesWanted;
        }

        static LeadingData forPrefetch(ReadCache c, long offset, long length) {
            int block = c.config().blockSize();
            int run = c.config().readaheadGetBlocks() * block;
            long start = offset / block * block;
            if (start > run / 2) {
                return null;
            }
            // At most mostDataBytes(c): start ≤ run / 2.
            long end = Math.min(start + run, (offset + length + block - 1) / block * block);
            return new LeadingData((int) end);
        }

        /** The most data bytes {@link #forPrefetch} asks a header GET for: a run, from at most half a run in. */
        static int mostDataBytes(ReadCache c) {
            int run = c.config().readaheadGetBlocks() * c.config().blockSize();
            return run + run / 2;
        }
    }

    /** Whether data blocks from {@code first}, {@code buf.limit()} bytes, lie within a header GET's first {@code gotLimit} bytes. */
    private static boolean fitsInHeaderGet(ObjectHeader h, int gotLimit, int first, ByteBuffer buf) {
        return h.headerBytes + (long) first * ObjectHeader.DATA_BLOCK_SIZE + buf.limit() <= gotLimit;
    }

    /**
     * One ranged GET of data blocks {@code first..first+count-1} into {@code buf} (from 0 to its
     * limit), each verified against the header's CRC32C ({@code pageCrcs}: see {@link #verifyBlocks}).
     */
    private boolean fetchBlocks(ObjectHeader h, int first, int count, ByteBuffer buf, int[] pageCrcs) throws IOException {
        long from = (long) first * ObjectHeader.DATA_BLOCK_SIZE;
        String key = keys.object(h.objectSeq, h.epoch);
        buf.clear();
        while (buf.hasRemaining()) {
            int n = store.getRange(key, h.headerBytes + from + buf.position(), buf);
            if (n <= 0) {
                throw new CorruptDataException(key + ": object truncated at data offset " + (from + buf.position()));
            }
        }
        verifyBlocks(h, first, count, buf, pageCrcs);
        return true;
    }

    /**
     * Checks data blocks {@code first..first+count-1}, in {@code buf} from 0 to its limit, against
     * the header's CRC32C. With {@code pageCrcs} (the read cache's fill will want them) the block
     * CRC is combined from the CRCs of its 4 KiB pages, which go there: one pass for both.
     */
    private void verifyBlocks(ObjectHeader h, int first, int count, ByteBuffer buf, int[] pageCrcs) throws CorruptDataException {
        int bs = ObjectHeader.DATA_BLOCK_SIZE;
        int pagesPerBlock = bs / Crc32c.PAGE;
        long from = (long) first * bs;
        String key = keys.object(h.objectSeq, h.epoch);
        for (int b = first; b < first + count; b++) {
            int start = (int) ((long) b * bs - from);
            int end = (int) Math.min(buf.limit(), start + (long) bs);
            int crc = pageCrcs == null ? Crc32c.of(buf, start, end) : Crc32c.ofPages(buf, start, end, pageCrcs, (b - first) * pagesPerBlock);
            if (crc != h.blockCrcs[b]) {
                forgetHeader(h.objectSeq); // the next read fetches it again
                throw new CorruptDataException(String.format("%s: data block %d (bytes %d-%d) CRC32C mismatch (header %08x, data %08x)",
                        key, b, (long) b * bs, (long) b * bs + (end - start), h.blockCrcs[b], crc));
            }
        }
    }
}
