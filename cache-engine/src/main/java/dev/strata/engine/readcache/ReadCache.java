package dev.strata.engine.readcache;

import dev.strata.engine.util.Crc32c;
import dev.strata.engine.util.DirectIoMode;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * A node's sharded persistent read cache of object data blocks (docs/read-cache.md).
 *
 * <p>{@link #read} serves a range of an object's data area: cached blocks from the cache
 * (each verified against the header's CRC32C), missing ones with one ranged GET per run of
 * consecutive missing blocks, fetched once however many readers miss them at the same time
 * (single flight), then filled into the cache in the background. {@link #fillUploaded} puts a
 * freshly uploaded object into the cache.
 *
 * <p>Concurrency: shards guard themselves ({@link CacheShard}); {@link #flights} holds the
 * blocks being fetched — a flight is completed exactly once by the reader that created it and
 * removed after its fill is published (or dropped), so readers arriving meanwhile join it; a
 * readahead's flights stay until its run leaves {@link #held}, and readers take their blocks from
 * memory meanwhile.
 */
public final class ReadCache implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ReadCache.class.getName());

    private final ReadCacheConfig config;
    private final int blockSize;
    /** Pages of {@value CacheShard#PAGE} bytes per block, each with its own CRC32C in the cache. */
    private final int pagesPerBlock;
    private final CacheShard[] shards;
    private final ReadCacheStats stats;
    private final ConcurrentHashMap<BlockKey, CompletableFuture<SharedRun.Block>> flights = new ConcurrentHashMap<>();
    /** Direct scratch blocks for cache-file reads. */
    private final RecycledBuffers buffers;
    /** At most this many consecutive blocks (1 MiB) are read from, or filled into, a cache file with one {@code pread} or {@code pwrite}. */
    static final int MAX_FILE_RUN_BLOCKS = 16;
    /** Direct, page-aligned buffers of {@link #MAX_FILE_RUN_BLOCKS} blocks: fills, and the shards' bounce buffers. */
    private final RecycledBuffers runBuffers;
    /** Direct, page-aligned buffers of one readahead GET for ranged GETs, filled in place (docs/read-cache.md, "GET buffers"). */
    private final RecycledBuffers gets;
    private final CacheFiller filler;
    /** Readahead runs kept in memory after their fill. */
    private final HeldRuns held;
    /** Object headers kept on the node. */
    private final HeaderCache headers;
    /**
     * Bytes of uploaded batches pinned by queued or running upload fills. A pinned batch's buffer
     * cannot go back to the volume's pool, which allocates a new one meanwhile; this bounds that
     * extra memory (64 MiB: eight 8 MiB objects). Beyond it, upload fills are dropped.
     */
    private final java.util.concurrent.atomic.AtomicLong uploadFillBytes = new java.util.concurrent.atomic.AtomicLong();
    static final long MAX_UPLOAD_FILL_BYTES = 64L << 20;
    /**
     * Room for fills of fetched runs that hold a GET buffer, queued or running (docs/read-cache.md,
     * "GET buffers"): {@link #maxFetchFillsFor} permits, each taken before a GET whose fill will
     * hold the buffer and given back when the fill ends. When fetches outrun the cache disk (a
     * store faster than it), a longer backlog would only hold more buffers, each past the recycled
     * pool a fresh one; so the fetches wait for room instead, and their readers slow to the disk's
     * speed, but every block they fetch is cached.
     */
    private final java.util.concurrent.Semaphore fetchFillRoom;
    private final FileChannel lockChannel;
    private final FileLock dirLock;
    private volatile boolean closed;
    /** Optional: sees every block lookup and upload fill (trace recording for the simulator). */
    private volatile AccessListener accessListener;

    /** Observes the cache's block-level access stream, in order per thread; must be cheap and thread-safe. */
    public interface AccessListener {
        /** A read looked up {@code key} (before knowing whether it is cached). */
        void lookup(BlockKey key);

        /** An uploaded object's block was offered to the cache. */
        void uploaded(BlockKey key);
    }

    private ReadCache(ReadCacheConfig config, ReadCacheStats stats, CacheShard[] shards, RecycledBuffers runBuffers,
            HeaderCache headers, FileChannel lockChannel, FileLock dirLock) {
        this.config = config;
        this.stats = stats;
        this.blockSize = config.blockSize();
        this.pagesPerBlock = CacheShard.pagesPerBlock(blockSize);
        this.shards = shards;
        this.headers = headers;
        this.lockChannel = lockChannel;
        this.dirLock = dirLock;
        this.buffers = RecycledBuffers.shared("read-cache scratch blocks", blockSize, 64, true);
        this.runBuffers = runBuffers;
        // Enough for the readahead GETs in flight of a few streams, the fills queued behind them and the held runs.
        int maxFetchFills = maxFetchFillsFor(config);
        this.fetchFillRoom = new java.util.concurrent.Semaphore(maxFetchFills);
        this.gets = RecycledBuffers.shared("read-cache GET buffers", config.readaheadGetBlocks() * blockSize,
                4 * Math.max(4, config.readaheadGets()) + HeldRuns.capacityFor(config) + maxFetchFills, true);
        this.held = new HeldRuns(HeldRuns.capacityFor(config));
        this.filler = new CacheFiller(config.fillThreads(), config.fillQueue(), "read-cache-fill");
    }

    /**
     * Opens the cache in {@code config.dir()} (creating it), loading every shard's persisted index.
     *
     * @throws ReadCacheLockedException if another process, or another cache in this process, uses the directory
     */
    public static ReadCache open(ReadCacheConfig config) throws IOException {
        Files.createDirectories(config.dir());
        Path lockFile = config.dir().resolve("lock");
        FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            ch.close();
            throw new ReadCacheLockedException("read cache " + config.dir() + " is in use (" + lockFile + " is locked)");
        }
        ReadCacheStats stats = new ReadCacheStats();
        CacheShard[] shards = new CacheShard[config.shards()];
        // One per running fill, and a few for direct reads of hits into a reader's unaligned buffer.
        RecycledBuffers runBuffers = RecycledBuffers.shared("read-cache run buffers", MAX_FILE_RUN_BLOCKS * config.blockSize(), config.fillThreads() + 4, true);
        HeaderCache headers;
        var failingShards = new java.util.concurrent.atomic.AtomicInteger(); // shards whose index writes fail: one warning for all
        try {
            for (int i = 0; i < shards.length; i++) {
                shards[i] = CacheShard.open(config, i, stats, runBuffers, failingShards);
            }
            headers = HeaderCache.open(config.dir().resolve("headers"), headerBytesFor(config));
        } catch (IOException | RuntimeException e) {
            for (CacheShard opened : shards) {
                if (opened != null) {
                    try {
                        opened.close(); // nothing to persist yet: closes its files
                    } catch (IOException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
            }
            lock.release();
            ch.close();
            throw e;
        }
        if (config.directIo() == DirectIoMode.AUTO && !shards[0].bypassesPageCache()) {
            LOG.log(System.Logger.Level.WARNING, "read cache " + config.dir() + ": O_DIRECT not available; the cache files go through the page cache");
        }
        return new ReadCache(config, stats, shards, runBuffers, headers, ch, lock);
    }

    /**
     * Fills of fetched runs queued or running at most: {@value #MAX_FETCH_FILL_BYTES} bytes of GET
     * buffers (32 runs of 1 MiB by default), at least twice the held runs: room for a few windows'
     * bursts of GETs that complete together.
     */
    static int maxFetchFillsFor(ReadCacheConfig config) {
        long runBytes = (long) config.readaheadGetBlocks() * config.blockSize();
        return (int) Math.max(2L * HeldRuns.capacityFor(config), MAX_FETCH_FILL_BYTES / runBytes);
    }

    static final long MAX_FETCH_FILL_BYTES = 32L << 20;

    /** Whether streaming I/O on the cache files uses O_DIRECT (docs/read-cache.md, "Streaming I/O bypasses the page cache"). */
    public boolean bypassesPageCache() {
        for (CacheShard s : shards) {
            if (!s.bypassesPageCache()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Bytes of object headers kept: 1/64 of the cache (16 MiB for 1 GiB: ~4000 headers of 4 KiB,
     * the objects of ~32 GiB of volume data), at least 1 MiB.
     */
    static long headerBytesFor(ReadCacheConfig config) {
        return Math.max(1L << 20, config.sizeBytes() / 64);
    }

    // ---------------------------------------------------------------- object headers

    /**
     * The node's copy of an object's header bytes (docs/read-cache.md, "Object headers"), or null.
     * The caller decodes them, which checks their CRC32C, and {@link #dropHeader}s a bad copy.
     */
    public ByteBuffer cachedHeader(long volumeHigh, long volumeLow, long seq, long epoch) {
        if (closed) {
            return null;
        }
        ByteBuffer b = headers.read(HeaderCache.name(volumeHigh, volumeLow, seq, epoch));
        (b == null ? stats.headerMisses : stats.headerHits).increment();
        return b;
    }

    /**
     * Keeps a copy of an object's header (from its position to its limit), written in the
     * background: the cache takes {@code header} over, the caller must not change it afterwards.
     */
    public void keepHeader(long volumeHigh, long volumeLow, long seq, long epoch, ByteBuffer header) {
        if (closed) {
            return;
        }
        String name = HeaderCache.name(volumeHigh, volumeLow, seq, epoch);
        if (!filler.submit(() -> headers.write(name, header))) {
            stats.fillsDropped.increment();
        }
    }

    /**
     * An object was deleted from the bucket (GC): its cached blocks and its kept header are
     * dropped now instead of waiting for eviction — nobody can read them again (object names are
     * never reused), and under TinyLFU a once-hot dead block would keep newer blocks out until its
     * frequency aged. A block being filled right now is not caught; it is evicted in time.
     */
    public void forgetObject(long volumeHigh, long volumeLow, long seq, long epoch, long dataBytes) {
        if (closed) {
            return;
        }
        int blocks = (int) ((dataBytes + blockSize - 1) / blockSize);
        for (int b = 0; b < blocks; b++) {
            BlockKey key = new BlockKey(volumeHigh, volumeLow, seq, epoch, b);
            if (shardOf(key).forget(key)) {
                stats.forgotten.increment();
            }
        }
        headers.drop(HeaderCache.name(volumeHigh, volumeLow, seq, epoch));
    }

    /** Deletes the node's copy of a header that did not decode. */
    public void dropHeader(long volumeHigh, long volumeLow, long seq, long epoch) {
        headers.drop(HeaderCache.name(volumeHigh, volumeLow, seq, epoch));
    }

    /** Object headers kept now (tests). */
    int keptHeaders() {
        return headers.size();
    }

    /** Records the access stream (null: stop); used to record traces for the eviction simulator. */
    public void setAccessListener(AccessListener l) {
        this.accessListener = l;
    }

    public ReadCacheConfig config() {
        return config;
    }

    public ReadCacheStats stats() {
        return stats;
    }

    /** Blocks evicted so far, over all shards. */
    public long evictions() {
        long n = 0;
        for (CacheShard s : shards) {
            n += s.evictions();
        }
        return n;
    }

    /** Blocks cached now, over all shards. */
    public long cachedBlocks() {
        long n = 0;
        for (CacheShard s : shards) {
            n += s.size();
        }
        return n;
    }

    CacheShard shardOf(BlockKey key) {
        return shards[(int) Long.remainderUnsigned(key.regionHash(config.blocksPerRegion()), shards.length)];
    }

    // ---------------------------------------------------------------- reads

    /**
     * Copies {@code length} bytes of the object's data area from {@code offset} into {@code dst}
     * at its position (advancing it). The caller checked the range against the object's size.
     */
    public void read(CachedObject obj, long offset, ByteBuffer dst, int length, BlockSource source) throws IOException {
        read(obj, offset, dst, length, source, true);
    }

    /**
     * {@link #read}, but the blocks it fetches are not filled into the cache: for a reader whose
     * data is about to die, such as GC copying a victim's live pieces into a new object (which is
     * filled as it is uploaded). Cached blocks are still used, and concurrent readers of the same
     * blocks still share its GETs (docs/read-cache.md, "Reads that do not fill").
     */
    public void readWithoutFilling(CachedObject obj, long offset, ByteBuffer dst, int length, BlockSource source) throws IOException {
        read(obj, offset, dst, length, source, false);
    }

    private void read(CachedObject obj, long offset, ByteBuffer dst, int length, BlockSource source, boolean fillMisses)
            throws IOException {
        if (length == 0) {
            return;
        }
        if (closed) {
            readUncached(obj, offset, dst, length, source);
            return;
        }
        int first = (int) (offset / blockSize);
        int last = (int) ((offset + length - 1) / blockSize);
        int n = last - first + 1;
        Copy out = new Copy(obj, offset, length, dst, blockSize, fillMisses);
        boolean[] missing = null;
        int hits = 0;
        ByteBuffer scratch = buffers.take();
        AccessListener listener = accessListener;
        try {
            for (int i = 0; i < n; ) {
                int b = first + i;
                BlockKey key = obj.block(b);
                if (listener != null) {
                    listener.lookup(key);
                }
                if (readFromHeldRun(key, b, out)) {
                    hits++;
                    i++;
                    continue;
                }
                // A run of blocks that the read wants whole, of this shard, that no fetch holds in memory:
                // read from the cache file with one pread straight into the reader's buffer. A block
                // the read wants only part of is read alone into scratch (its pages are checked whole).
                CacheShard shard = shardOf(key);
                int j = i + 1;
                if (out.wantsWhole(b)) {
                    while (j < n && j - i < MAX_FILE_RUN_BLOCKS && out.wantsWhole(first + j)) {
                        BlockKey next = obj.block(first + j);
                        if (shardOf(next) != shard || flights.containsKey(next)) {
                            break;
                        }
                        if (listener != null) {
                            listener.lookup(next);
                        }
                        j++;
                    }
                }
                long found;
                if (j - i == 1) {
                    boolean hit = shard.read(key, obj.blockCrcs()[b], obj.blockLength(b, blockSize), scratch, out.from(b), out.to(b));
                    if (hit) {
                        out.block(b, scratch);
                    }
                    found = hit ? 1 : 0;
                } else {
                    // Blocks that fail their check leave wrong bytes here until readMissing overwrites them.
                    found = shard.readBlocks(obj, b, j - i, out.wholeBlocks(b, j - i));
                }
                for (int k = i; k < j; k++) {
                    if ((found & (1L << (k - i))) != 0) {
                        hits++;
                    } else {
                        if (missing == null) {
                            missing = new boolean[n];
                        }
                        missing[k] = true;
                    }
                }
                i = j;
            }
        } finally {
            buffers.give(scratch);
        }
        stats.blockHits.add(hits);
        stats.blockMisses.add(n - hits);
        (hits == n ? stats.readsFullHit : hits == 0 ? stats.readsNoHit : stats.readsPartialHit).increment();
        if (missing != null) {
            readMissing(obj, first, missing, out, source);
        }
        dst.position(dst.position() + length);
    }

    /**
     * Block {@code b} from the run of a completed flight, if it is still in memory (a readahead run
     * held after its fill, docs/read-cache.md "Held runs"): no {@code pread}, no CRC pass.
     */
    private boolean readFromHeldRun(BlockKey key, int b, Copy out) {
        CompletableFuture<SharedRun.Block> f = flights.get(key);
        if (f == null || !f.isDone() || f.isCompletedExceptionally()) {
            return false;
        }
        SharedRun.Block data = f.getNow(null);
        if (!data.run().retain()) {
            return false; // released meanwhile: its buffer may hold other bytes now
        }
        try {
            out.block(b, data.data());
        } finally {
            data.run().release();
        }
        stats.heldRunHits.increment();
        return true;
    }

    // ---------------------------------------------------------------- readahead

    /**
     * Readahead (docs/read-cache.md, "Readahead"): starts fetching the blocks covering
     * {@code [offset, offset + length)} of the object's data area that are neither cached nor
     * being fetched, in ranged GETs of at most {@code readaheadGetBlocks} blocks, each in its own
     * virtual thread, as single-flight fetches that later readers join or hit. The caller (the
     * volume's {@code SequentialReadahead}, which knows where a sequential reader goes next, also
     * across objects) bounds how much is in flight. Returns without waiting; failures only cost
     * the readahead (whoever joined a failed fetch reads the block itself).
     */
    public void prefetch(CachedObject obj, long offset, long length, BlockSource source) {
        if (length <= 0 || closed || config.readaheadGets() == 0) {
            return;
        }
        int getBlocks = config.readaheadGetBlocks();
        int first = (int) (offset / blockSize);
        int end = (int) Math.min((offset + length + blockSize - 1) / blockSize, (obj.dataBytes() + blockSize - 1) / blockSize);
        for (int from = first; from < end; from += getBlocks) {
            int a = from;
            // Claimed here, in the caller's thread: a reader arriving at these blocks finds them in flight.
            CompletableFuture<SharedRun.Block>[] mine = claim(obj, a, Math.min(end, from + getBlocks));
            if (mine != null) {
                Thread.ofVirtual().name("read-cache-readahead").start(() -> prefetch(obj, a, mine, source));
            }
        }
    }

    /** Registers flights for the blocks of [start, end) neither cached nor being fetched; null if there are none. */
    private CompletableFuture<SharedRun.Block>[] claim(CachedObject obj, int start, int end) {
        int n = end - start;
        @SuppressWarnings("unchecked")
        CompletableFuture<SharedRun.Block>[] mine = new CompletableFuture[n];
        boolean any = false;
        for (int i = 0; i < n; i++) {
            BlockKey key = obj.block(start + i);
            if (shardOf(key).contains(key)) {
                continue;
            }
            CompletableFuture<SharedRun.Block> f = new CompletableFuture<>();
            if (flights.putIfAbsent(key, f) == null) {
                if (shardOf(key).contains(key)) {
                    // Filled (and its old flight removed) since we looked: do not GET it again. A reader
                    // that joined this flight in between reads the block itself (a cache hit).
                    flights.remove(key, f);
                    f.completeExceptionally(new FetchAbandoned(new IOException("cached meanwhile")));
                    continue;
                }
                mine[i] = f;
                any = true;
                stats.readaheadBlocks.increment();
            }
        }
        return any ? mine : null;
    }

    /**
     * Fetches the claimed blocks (coalesced GETs) and fills them. A failure fails their flights
     * with {@link FetchAbandoned}: a reader that joined one fetches the block itself, so a
     * speculative GET never fails a read that its own GET would have answered (and a corrupt
     * block still fails the read that wants it, with its own GET's error).
     */
    private void prefetch(CachedObject obj, int start, CompletableFuture<SharedRun.Block>[] mine, BlockSource source) {
        try {
            fetchLedRuns(obj, start, mine, null, source);
        } catch (IOException | RuntimeException | Error e) {
            LOG.log(System.Logger.Level.DEBUG, "readahead of " + obj.key() + " failed: " + e);
        }
    }

    /**
     * A fetch failed for a reason of its leader's own — a speculative readahead, or a leader that
     * was interrupted (a closing volume's GC, say, while a reader of the reopened volume had joined
     * its flight in the engine-wide cache): whoever joined reads the block on its own instead of
     * inheriting an error that is not about the data.
     */
    static final class FetchAbandoned extends RuntimeException {
        FetchAbandoned(Throwable cause) {
            super("fetch abandoned by its leader: " + cause, cause, false, false);
        }
    }

    /** Whether {@code e} is the leader's interruption rather than a fault of the object or the store. */
    private static boolean leaderInterrupted(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.nio.channels.ClosedByInterruptException || t instanceof InterruptedIOException
                    || t instanceof InterruptedException) {
                return true;
            }
        }
        return Thread.currentThread().isInterrupted();
    }

    /** The cache is closed (the engine is shutting down under a reader): straight from the bucket. */
    private void readUncached(CachedObject obj, long offset, ByteBuffer dst, int length, BlockSource source) throws IOException {
        int first = (int) (offset / blockSize);
        int last = (int) ((offset + length - 1) / blockSize);
        long from = (long) first * blockSize;
        ByteBuffer run = ByteBuffer.allocate((int) (Math.min(obj.dataBytes(), (last + 1L) * blockSize) - from));
        source.fetch(obj, first, last - first + 1, run, null);
        dst.put(dst.position(), run, (int) (offset - from), length);
        dst.position(dst.position() + length);
    }

    /** Misses: lead the blocks nobody is fetching (coalesced GETs), then wait for the others. */
    private void readMissing(CachedObject obj, int first, boolean[] missing, Copy out, BlockSource source) throws IOException {
        readMissing(obj, first, missing, out, source, 0);
    }

    private void readMissing(CachedObject obj, int first, boolean[] missing, Copy out, BlockSource source, int attempt)
            throws IOException {
        int n = missing.length;
        @SuppressWarnings("unchecked")
        CompletableFuture<SharedRun.Block>[] mine = new CompletableFuture[n];
        @SuppressWarnings("unchecked")
        CompletableFuture<SharedRun.Block>[] theirs = new CompletableFuture[n];
        for (int i = 0; i < n; i++) {
            if (missing[i]) {
                CompletableFuture<SharedRun.Block> f = new CompletableFuture<>();
                CompletableFuture<SharedRun.Block> existing = flights.putIfAbsent(obj.block(first + i), f);
                if (existing == null) {
                    mine[i] = f;
                } else {
                    theirs[i] = existing;
                }
            }
        }
        try {
            recheck(obj, first, mine, out);
        } catch (RuntimeException | Error e) {
            failLed(obj, first, mine, e);
            throw e;
        }
        fetchLedRuns(obj, first, mine, out, source);
        boolean[] retry = null;
        for (int i = 0; i < n; i++) {
            if (theirs[i] != null) {
                SharedRun.Block data = await(theirs[i], obj, first + i, attempt < 3);
                // Null: a failed readahead. Not retained: its GET buffer was recycled after the fill,
                // so the block is in the cache now (or the fill was dropped). Either way: read it again.
                if (data == null || !data.run().retain()) {
                    if (retry == null) {
                        retry = new boolean[n];
                    }
                    retry[i] = true;
                    continue;
                }
                try {
                    out.block(first + i, data.data());
                } finally {
                    data.run().release();
                }
                stats.flightJoins.increment();
            }
        }
        if (retry != null) {
            readMissing(obj, first, retry, out, source, attempt + 1);
        }
    }

    /**
     * Fetches the blocks this caller leads ({@code mine[i]} non-null: block {@code first + i}),
     * one ranged GET per run of consecutive ones. On failure every flight still led is failed
     * (its joiners get the error) and removed, and the error is rethrown.
     */
    private void fetchLedRuns(CachedObject obj, int first, CompletableFuture<SharedRun.Block>[] mine, Copy out,
            BlockSource source) throws IOException {
        int n = mine.length;
        try {
            for (int i = 0; i < n; i++) {
                if (mine[i] == null) {
                    continue;
                }
                int j = i;
                while (j + 1 < n && mine[j + 1] != null) {
                    j++;
                }
                fetchRun(obj, first + i, i, j - i + 1, mine, out, source);
                i = j;
            }
        } catch (IOException | RuntimeException | Error e) {
            failLed(obj, first, mine, out == null || leaderInterrupted(e) ? new FetchAbandoned(e) : e);
            throw e;
        }
    }

    /** Fails and removes every flight this caller still leads: their joiners get {@code e}. */
    private void failLed(CachedObject obj, int first, CompletableFuture<SharedRun.Block>[] mine, Throwable e) {
        for (int i = 0; i < mine.length; i++) {
            if (mine[i] != null) {
                // Removed first: a joiner woken by the error that reads the block again must not find this flight.
                flights.remove(obj.block(first + i), mine[i]);
                mine[i].completeExceptionally(e);
            }
        }
    }

    /**
     * A block may have been filled between our lookup and our flight registration (its previous
     * flight was removed after its fill): look again before GETting it a second time.
     */
    private void recheck(CachedObject obj, int first, CompletableFuture<SharedRun.Block>[] mine, Copy out) {
        ByteBuffer scratch = null;
        try {
            for (int i = 0; i < mine.length; i++) {
                if (mine[i] == null) {
                    continue;
                }
                int b = first + i;
                BlockKey key = obj.block(b);
                if (scratch == null) {
                    scratch = buffers.take();
                }
                int len = obj.blockLength(b, blockSize);
                // The whole block: readers waiting on this flight may want other parts of it.
                if (shardOf(key).read(key, obj.blockCrcs()[b], len, scratch, 0, len)) {
                    out.block(b, scratch);
                    ByteBuffer copy = ByteBuffer.allocate(scratch.limit()).put(scratch.duplicate().position(0)).flip();
                    mine[i].complete(new SharedRun.Block(new SharedRun(copy, null), 0, copy.limit()));
                    flights.remove(key, mine[i]);
                    mine[i] = null;
                }
            }
        } finally {
            if (scratch != null) {
                buffers.give(scratch);
            }
        }
    }

    /**
     * One ranged GET for blocks {@code block..block+count-1} (indexes {@code i..} of the flight
     * arrays); {@code out} (null for readahead) receives the parts a reader asked for.
     */
    private void fetchRun(CachedObject obj, int block, int i, int count, CompletableFuture<SharedRun.Block>[] mine, Copy out,
            BlockSource source) throws IOException {
        long from = (long) block * blockSize;
        long to = Math.min(obj.dataBytes(), (long) (block + count) * blockSize);
        int size = (int) (to - from);
        // Readahead-sized runs take a recycled buffer; small ones (a random read's block or two) an
        // exact one, which is short-lived young garbage rather than a pooled 1 MiB buffer per
        // concurrent miss; larger ones (rare: a read longer than a readahead GET) their own.
        boolean recycled = size > gets.size() / 4 && size <= gets.size();
        // A fetch whose fill will hold its GET buffer waits for room for that fill before it GETs: a
        // store faster than the cache disk slows to the disk's speed instead of leaving what it
        // fetches uncached or holding ever more buffers.
        boolean room = recycled && (out == null || out.fillMisses()) && awaitFetchFillRoom(obj, block);
        SharedRun run = recycled ? new SharedRun(gets.take(), gets) : new SharedRun(ByteBuffer.allocate(size), null);
        ByteBuffer bytes = run.bytes().clear().slice(0, size);
        // Filled by the fetch's check of the blocks against the header: the fill needs no pass of its own.
        int[] pageCrcs = new int[count * pagesPerBlock];
        boolean got;
        try {
            got = source.fetch(obj, block, count, bytes, pageCrcs);
        } catch (IOException | RuntimeException | Error e) {
            run.release(); // nobody else has seen it
            if (room) {
                fetchFillRoom.release();
            }
            throw e;
        }
        if (got) {
            stats.bucketGets.increment();
        }
        stats.bucketBytes.add(size);
        @SuppressWarnings("unchecked")
        CompletableFuture<SharedRun.Block>[] led = new CompletableFuture[count];
        for (int k = 0; k < count; k++) {
            int len = obj.blockLength(block + k, blockSize);
            if (out != null) {
                out.block(block + k, bytes.slice(k * blockSize, len));
            }
            led[k] = mine[i + k];
            led[k].complete(new SharedRun.Block(run, k * blockSize, len));
            mine[i + k] = null; // completed: no longer ours to fail
        }
        Runnable release = () -> {
            for (int k = 0; k < count; k++) {
                flights.remove(obj.block(block + k), led[k]);
            }
            run.release(); // after the removal: a joiner that still finds a flight can retain, or sees it released
        };
        // A readahead run stays in memory after its fill for the reader that comes for it ("Held runs").
        Runnable done = out == null ? () -> held.hold(release) : release;
        if (out != null && !out.fillMisses()) {
            stats.fetchedNotFilled.add(count);
            done.run();
            return;
        }
        // Readahead fills, and a reader's own miss as large as a readahead GET, stream past the page
        // cache; a smaller miss (a random read, mostly) goes through it.
        fillFetched(obj, block, count, run, pageCrcs, from, done, out == null || count >= config.readaheadGetBlocks(), room);
    }

    /** Takes room for a fetched run's fill, waiting for it; true, or thrown if interrupted meanwhile. */
    private boolean awaitFetchFillRoom(CachedObject obj, int block) throws IOException {
        if (fetchFillRoom.tryAcquire()) {
            return true;
        }
        stats.fillRoomWaits.increment();
        try {
            fetchFillRoom.acquire();
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for room to fill " + obj.key() + " block " + block);
        }
    }

    /**
     * Queues the fill of a fetched run; {@code done} runs after it, or at once if it is dropped.
     * {@code room}: the fetch took room for the fill (fetchRun), which every fetch into a recycled
     * GET buffer does: that buffer (direct, page-aligned) is written into the cache straight from it,
     * and the room given back when the fill ends. Other runs (exact heap buffers) are copied in.
     */
    private void fillFetched(CachedObject obj, int block, int count, SharedRun run, int[] pageCrcs, long from, Runnable done,
            boolean streaming, boolean room) {
        ByteBuffer whole = run.bytes();
        if (!room) {
            ByteBuffer frozen = whole.asReadOnlyBuffer();
            if (!fill(obj, block, count, (off, dst, len) -> dst.put(frozen.slice((int) (off - from), len)), null, pageCrcs, done,
                    streaming)) {
                done.run();
            }
            return;
        }
        assert whole.isDirect() && whole.alignmentOffset(0, CacheShard.PAGE) == 0 : "a recycled GET buffer is direct and page-aligned";
        boolean queued = fill(obj, block, count, null, whole, pageCrcs, () -> {
            fetchFillRoom.release();
            done.run();
        }, streaming);
        if (!queued) {
            fetchFillRoom.release(); // the wrapper never runs
            done.run();
        }
    }

    /** The leader's bytes; null if the leader was a readahead that failed and {@code retry} (the caller fetches the block itself). */
    private static SharedRun.Block await(CompletableFuture<SharedRun.Block> f, CachedObject obj, int block, boolean retry) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for " + obj.key() + " block " + block);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof FetchAbandoned rf) {
                if (retry) {
                    return null;
                }
                if (rf.getCause() instanceof IOException io) {
                    throw io;
                }
            }
            if (e.getCause() instanceof IOException io) {
                throw io; // the leader's error (names the object and block) is ours too
            }
            throw new IOException(obj.key() + " block " + block + ": fetch failed in another reader", e.getCause());
        }
    }

    // ---------------------------------------------------------------- fills

    /**
     * Queues the whole object for filling: its data is what was just uploaded. {@code release}
     * runs when the copier is no longer used (at once if the fill is dropped). {@code streaming}:
     * the object holds large sequential writes, filled with O_DIRECT where the cache has it (fresh
     * small random writes go through the page cache: "Streaming I/O bypasses the page cache").
     */
    public void fillUploaded(CachedObject obj, BlockCopier copier, Runnable release, boolean streaming) {
        int blocks = obj.blockCrcs().length;
        AccessListener listener = accessListener;
        if (listener != null) {
            for (int b = 0; b < blocks; b++) {
                listener.uploaded(obj.block(b));
            }
        }
        if (blocks == 0) {
            release.run();
            return;
        }
        long bytes = obj.dataBytes();
        if (uploadFillBytes.addAndGet(bytes) > MAX_UPLOAD_FILL_BYTES) {
            uploadFillBytes.addAndGet(-bytes);
            stats.fillsDropped.increment();
            release.run();
            return;
        }
        Runnable done = () -> {
            uploadFillBytes.addAndGet(-bytes);
            release.run();
        };
        if (!fill(obj, 0, blocks, copier, null, null, done, streaming)) {
            done.run();
        }
    }

    /**
     * Queues a fill of blocks {@code block..block+count-1}; {@code streaming}: with O_DIRECT where
     * the cache has it ("Streaming I/O bypasses the page cache"). The bytes come from {@code copier}
     * (copied into a run buffer first) or, when it is null, lie back to back in {@code inPlace}
     * (block k from {@code k * blockSize}): a direct, page-aligned buffer written into the cache
     * files straight from it. Such a fill may zero the bytes between the end of the last block and
     * the next page boundary, if the buffer's capacity has them; nothing reads them.
     * {@code pageCrcs}: the page CRCs of fetched blocks, computed when the fetch checked them
     * (block k's from {@code k * pagesPerBlock}); null for bytes not checked yet (an uploaded
     * batch's), which the fill checks against their header CRCs in the pass that computes them.
     */
    private boolean fill(CachedObject obj, int block, int count, BlockCopier copier, ByteBuffer inPlace, int[] pageCrcs,
            Runnable release, boolean streaming) {
        if (closed) {
            return false;
        }
        boolean queued = filler.submit(() -> {
            ByteBuffer run = copier == null ? null : runBuffers.take();
            try {
                // Stretches of consecutive blocks of one shard (a region of 16 blocks is one shard),
                // each filled with one slot reservation and as few writes as its slots allow.
                for (int k = 0; k < count; ) {
                    CacheShard shard = shardOf(obj.block(block + k));
                    int n = 1;
                    while (k + n < count && n < MAX_FILE_RUN_BLOCKS && shardOf(obj.block(block + k + n)) == shard) {
                        n++;
                    }
                    ByteBuffer bytes = copier == null ? inPlace.slice(k * blockSize, inPlace.capacity() - k * blockSize) : run;
                    fillStretch(obj, block + k, n, shard, copier, pageCrcs, k * pagesPerBlock, streaming, bytes);
                    shard.maybePersist();
                    k += n;
                }
            } finally {
                if (run != null) {
                    runBuffers.give(run);
                }
                release.run();
            }
        });
        if (!queued) {
            stats.fillsDropped.increment();
        }
        return queued;
    }

    /**
     * Fills blocks {@code first..first+n-1}, back to back in {@code run}, into {@code shard}: copied
     * there by {@code copier} first, or already there when it is null. Their page CRCs are taken
     * from {@code pageCrcs} (from {@code pageCrcsAt}) where those add up to the block's header
     * CRC (no pass over the bytes); else, and when it is null, computed here in one pass with the
     * check of the block against its header CRC.
     */
    private void fillStretch(CachedObject obj, int first, int n, CacheShard shard, BlockCopier copier, int[] pageCrcs, int pageCrcsAt,
            boolean streaming, ByteBuffer run) {
        BlockKey[] keys = new BlockKey[n];
        int[] crcs = new int[n];
        int[] lengths = new int[n];
        int[] pages = pageCrcs != null ? pageCrcs : new int[n * pagesPerBlock];
        int pagesAt = pageCrcs != null ? pageCrcsAt : 0;
        run.clear();
        for (int k = 0; k < n; k++) {
            int b = first + k;
            int len = obj.blockLength(b, blockSize);
            if (copier != null) {
                run.position(k * blockSize);
                copier.copy((long) b * blockSize, run, len);
            }
            lengths[k] = len;
            crcs[k] = obj.blockCrcs()[b];
            int at = pagesAt + k * pagesPerBlock;
            boolean handedOver = pageCrcs != null && Crc32c.combinePages(pages, at, len) == crcs[k];
            if (!handedOver) {
                java.util.Arrays.fill(pages, at, at + pagesPerBlock, 0); // pages past a short block's end stay 0
                if (Crc32c.ofPages(run, k * blockSize, k * blockSize + len, pages, at) != crcs[k]) {
                    // Never cache bytes the object does not hold.
                    stats.fillFailures.increment();
                    LOG.log(System.Logger.Level.WARNING, obj.key() + " block " + b + ": data does not match its header CRC; not cached");
                    continue;
                }
            }
            keys[k] = obj.block(b);
        }
        shard.fillRun(keys, crcs, lengths, run, streaming, pages, pagesAt);
    }

    /** Waits until every queued fill is in the cache (tests, benchmarks, shutdown). */
    public void awaitFills() throws InterruptedException {
        filler.awaitIdle();
    }

    /** Writes every shard's index now (normally periodic and on close). */
    public void persist() throws IOException {
        for (CacheShard s : shards) {
            s.persist();
        }
    }

    /** Test hook: where the block is cached (file and offset), or null. */
    SlotLocation locate(BlockKey key) {
        CacheShard s = shardOf(key);
        long off = s.offsetOf(key);
        return off < 0 ? null : new SlotLocation(s.dataFile(), off);
    }

    record SlotLocation(Path file, long offset) {}

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            filler.shutdown();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Fills the shutdown abandoned never give their room back: let every fetch still waiting
        // for room go on (its fill is refused, the cache being closed).
        fetchFillRoom.release(Integer.MAX_VALUE / 2);
        held.releaseAll();
        IOException first = null;
        for (CacheShard s : shards) {
            try {
                s.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        dirLock.release();
        lockChannel.close();
        if (first != null) {
            throw first;
        }
    }

    /** Copies the wanted part of each block into the reader's buffer (absolute puts: order does not matter). */
    private record Copy(CachedObject obj, long offset, int length, ByteBuffer dst, int blockSize, boolean fillMisses) {
        /** First byte of block {@code b} (relative to the block) that the read wants. */
        int from(int b) {
            long blockStart = (long) b * blockSize;
            return (int) (Math.max(offset, blockStart) - blockStart);
        }

        /** End (exclusive, relative to the block) of what the read wants of block {@code b}. */
        int to(int b) {
            long blockStart = (long) b * blockSize;
            return (int) (Math.min(offset + length, blockStart + obj.blockLength(b, blockSize)) - blockStart);
        }

        /** Whether the read wants all of block {@code b}. */
        boolean wantsWhole(int b) {
            return from(b) == 0 && to(b) == obj.blockLength(b, blockSize);
        }

        /**
         * The part of the reader's buffer for blocks {@code b..b+count-1}, all wanted whole (block
         * {@code b + k} at {@code k * blockSize}): a cache hit run is read straight into it.
         */
        ByteBuffer wholeBlocks(int b, int count) {
            long start = (long) b * blockSize;
            int bytes = (int) (Math.min(obj.dataBytes(), start + (long) count * blockSize) - start);
            return dst.slice(dst.position() + (int) (start - offset), bytes);
        }

        /** {@code data} holds (at least the wanted part of) block {@code b}'s bytes at their block-relative indexes. */
        void block(int b, ByteBuffer data) {
            int from = from(b);
            int to = to(b);
            dst.put(dst.position() + (int) ((long) b * blockSize + from - offset), data, from, to - from);
        }
    }
}
