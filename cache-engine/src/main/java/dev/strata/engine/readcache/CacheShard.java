package dev.strata.engine.readcache;

import dev.strata.engine.util.Crc32c;
import dev.strata.engine.util.DirectIoMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One shard of the read cache: a data file of fixed 64 KiB slots, its {@link SlotTable} and its
 * persisted index.
 *
 * <p>Concurrency: {@link #lock} guards {@link #table} and {@link #dirty} and is never held across
 * I/O. The data file is read and written with positional I/O outside the lock: a slot's bytes are
 * written only while the slot is FILLING (owned by exactly one filler) and read only while the
 * reader holds a pin, so the two never overlap. {@link #persistLock} lets one thread at a time
 * write the index file.
 *
 * <p>Streaming I/O — readahead fills, reads of whole blocks — uses {@code O_DIRECT} through
 * {@link #directFile} where the mode and the filesystem allow it; the rest (fills of uploads
 * and of random misses, reads of parts of blocks) goes through the page cache ({@link #bufferedFile}):
 * docs/read-cache.md, "Streaming I/O bypasses the page cache". Direct reads need page-aligned
 * memory: a caller's buffer that is not is read through a {@link #bounce} buffer and copied. The
 * kernel keeps the two channels coherent (a direct read writes dirty cached pages back first, a
 * direct write drops the cached pages of its range); a page it could not drop would fail its CRC.
 */
final class CacheShard {
    private static final System.Logger LOG = System.getLogger(CacheShard.class.getName());
    /**
     * Slots carry a CRC32C per 4 KiB page (computed in the same pass that verified the block
     * against the object header), so a 4 KiB read reads and verifies 4 KiB, not the whole block.
     */
    static final int PAGE = Crc32c.PAGE;

    static int pagesPerBlock(int blockSize) {
        return (blockSize + PAGE - 1) / PAGE;
    }

    private final int number;
    private final int blockSize;
    private final Path dataFile;
    private final Path indexFile;
    private final ShardIndexFile.Geometry geometry;
    private final long persistEveryNanos;
    private final ReadCacheStats stats;
    private final ReentrantLock lock = new ReentrantLock();
    private final ReentrantLock persistLock = new ReentrantLock();
    /** Guarded by lock. */
    private final SlotTable table;
    /**
     * Page CRCs, {@code pages} per slot. Written under {@link #lock} while the slot is FILLING (or
     * at load), before it is published; read by readers holding a pin, which keeps them unchanged.
     */
    private final int[] pageCrcs;
    private final int pages;
    /** Guarded by lock: the table changed since the index file was last written. */
    private boolean dirty;
    /** The data file through the page cache. */
    private final Reopening bufferedFile;
    private final DirectIoMode directIo;
    /** The data file opened with O_DIRECT; its channel is null where it is read and written through {@link #bufferedFile}. */
    private final Reopening directFile;
    /** Page-aligned direct buffers of {@link ReadCache#MAX_FILE_RUN_BLOCKS} blocks, for direct reads into a caller's unaligned buffer. */
    private final RecycledBuffers bounce;
    /** When the index was last written, or last failed to be: the next attempt waits a persist interval after either. */
    private volatile long lastPersistNanos = System.nanoTime();
    /** Index writes failed in a row since the last one that succeeded; only the persisting thread (under persistLock) changes it. */
    private int persistFailuresInARow;
    /** Shards of this cache whose last index write failed (shared by them): only the first to fail warns. */
    private final java.util.concurrent.atomic.AtomicInteger failingShards;
    /** The data file's identity (device and inode) when {@link #bufferedFile} last opened it: an index describes that file only. */
    private volatile Object dataFileKey;

    /** Opens the data file both ways (the direct way only where the mode and the filesystem allow it). */
    private CacheShard(ReadCacheConfig c, int number, ReadCacheStats stats, RecycledBuffers bounce,
            java.util.concurrent.atomic.AtomicInteger failingShards) throws IOException {
        this.number = number;
        this.failingShards = failingShards;
        this.blockSize = c.blockSize();
        this.dataFile = c.dir().resolve(String.format("shard-%02d.data", number));
        this.indexFile = c.dir().resolve(String.format("shard-%02d.index", number));
        this.geometry = new ShardIndexFile.Geometry(number, c.shards(), c.blockSize(), c.slotsPerShard());
        this.persistEveryNanos = c.persistEvery().toNanos();
        this.stats = stats;
        this.table = new SlotTable(c.slotsPerShard(), c.policy().create(c.slotsPerShard(), number));
        this.pages = pagesPerBlock(blockSize);
        this.pageCrcs = new int[c.slotsPerShard() * pages];
        this.directIo = c.directIo();
        this.bounce = bounce;
        this.bufferedFile = new Reopening(this::openChannel);
        try {
            this.directFile = new Reopening(this::openDirectChannel);
        } catch (IOException e) {
            bufferedFile.close();
            throw e;
        }
    }

    /**
     * Opens (or creates) the shard's files and loads its persisted index if it is valid for this
     * geometry. {@code bounce}: page-aligned direct buffers of at least
     * {@link ReadCache#MAX_FILE_RUN_BLOCKS} blocks (shared with the cache's fills).
     */
    static CacheShard open(ReadCacheConfig c, int number, ReadCacheStats stats, RecycledBuffers bounce,
            java.util.concurrent.atomic.AtomicInteger failingShards) throws IOException {
        CacheShard s = new CacheShard(c, number, stats, bounce, failingShards);
        try {
            FileChannel ch = s.bufferedFile.get();
            long want = (long) s.geometry.slots() * s.blockSize;
            if (ch.size() > want) {
                ch.truncate(want);
            } else if (ch.size() < want) {
                ch.write(ByteBuffer.allocate(1), want - 1); // sparse: slots cost disk only once filled
            }
        } catch (IOException e) {
            try {
                s.bufferedFile.close();
            } finally {
                s.directFile.close();
            }
            throw e;
        }
        s.load();
        return s;
    }

    private FileChannel openChannel() throws IOException {
        FileChannel ch = FileChannel.open(dataFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            dataFileKey = Files.readAttributes(dataFile, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return ch;
    }

    /**
     * The data file opened with O_DIRECT, or null where it goes through the page cache: mode
     * OFF, a block size that is not a whole number of pages (slots would not be aligned), or (mode
     * AUTO) a filesystem that refuses O_DIRECT, such as tmpfs.
     */
    private FileChannel openDirectChannel() throws IOException {
        if (directIo == DirectIoMode.OFF) {
            return null;
        }
        if (blockSize % PAGE != 0) {
            if (directIo == DirectIoMode.ON) {
                throw new IOException("read cache " + dataFile + ": block size " + blockSize + " is not a multiple of " + PAGE
                        + ", so the cache files cannot use O_DIRECT (direct I/O ON)");
            }
            return null;
        }
        try {
            return FileChannel.open(dataFile, StandardOpenOption.READ, StandardOpenOption.WRITE, DirectIoMode.OPEN_OPTION);
        } catch (IOException | UnsupportedOperationException e) {
            if (directIo == DirectIoMode.ON) {
                throw new IOException("read cache " + dataFile + ": cannot open with O_DIRECT (direct I/O ON)", e);
            }
            LOG.log(System.Logger.Level.DEBUG, "read cache " + dataFile + ": O_DIRECT not available (" + e + "); using the page cache");
            return null;
        }
    }

    /** Whether the data file is read and written with O_DIRECT (bypassing the page cache). */
    boolean bypassesPageCache() {
        return directFile.current() != null;
    }

    private void load() {
        List<ShardIndexFile.Entry> entries;
        try {
            entries = ShardIndexFile.read(indexFile, geometry);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "read cache shard " + number + " starts empty: " + e.getMessage());
            return;
        }
        int restored = 0;
        lock.lock();
        try {
            for (ShardIndexFile.Entry e : entries) {
                System.arraycopy(e.pageCrcs(), 0, pageCrcs, e.slot() * pages, pages);
                if (table.restore(e.slot(), e.key(), e.crc(), e.length())) {
                    restored++;
                }
            }
        } finally {
            lock.unlock();
        }
        LOG.log(System.Logger.Level.DEBUG, "read cache shard " + number + ": " + restored + " of " + entries.size()
                + " persisted entries restored from " + indexFile);
    }

    /** Whether the block is cached (no access counted, nothing read). */
    boolean contains(BlockKey key) {
        lock.lock();
        try {
            return table.contains(key);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reads bytes {@code [from, to)} of the cached block {@code key} (rounded out to 4 KiB pages)
     * into {@code buf} at the same indexes, and verifies each page read against its CRC; the slot
     * must hold the block whose header CRC is {@code expectedCrc} and length {@code length}. True
     * only for a verified hit; a block that fails is dropped and counted, and the caller fetches it
     * from the bucket.
     */
    boolean read(BlockKey key, int expectedCrc, int length, ByteBuffer buf, int from, int to) {
        int slot;
        int storedCrc;
        int storedLength;
        lock.lock();
        try {
            slot = table.lookupAndPin(key);
            if (slot < 0) {
                return false;
            }
            storedCrc = table.crc(slot);
            storedLength = table.length(slot);
        } finally {
            lock.unlock();
        }
        boolean good = false;
        String why = null;
        try {
            why = indexMismatch(storedCrc, storedLength, expectedCrc, length);
            if (why == null) {
                int firstPage = from / PAGE;
                int endPage = (to + PAGE - 1) / PAGE;
                buf.clear().limit(Math.min(length, endPage * PAGE)).position(firstPage * PAGE);
                // A whole block is streamed past the page cache; part of one (a small random read) goes through it.
                readFile(buf, (long) slot * blockSize, from == 0 && to >= length);
                stats.fileReads.increment();
                why = pageMismatch(buf, 0, slot, firstPage, endPage, length);
                good = why == null;
            }
        } catch (IOException e) {
            why = "read failed: " + e;
        } finally {
            lock.lock();
            try {
                table.unpin(slot);
                if (!good && table.drop(slot, key)) {
                    dirty = true;
                }
            } finally {
                lock.unlock();
            }
        }
        if (!good) {
            droppedAsBad(slot, key, why);
        }
        return good;
    }

    /** Why the index's entry for a slot does not describe the block the object header lists; null if it does. */
    private static String indexMismatch(int storedCrc, int storedLength, int expectedCrc, int length) {
        return storedCrc == expectedCrc && storedLength == length ? null
                : String.format("index says CRC %08x length %d, the object header %08x length %d", storedCrc, storedLength, expectedCrc,
                        length);
    }

    /**
     * Checks pages {@code [fromPage, endPage)} of the block held in {@code slot}, read into
     * {@code buf} at {@code base}, against their CRC32Cs; the first mismatch, or null.
     */
    private String pageMismatch(ByteBuffer buf, int base, int slot, int fromPage, int endPage, int length) {
        for (int p = fromPage; p < endPage; p++) {
            int crc = Crc32c.of(buf, base + p * PAGE, base + Math.min(length, (p + 1) * PAGE));
            int want = pageCrcs[slot * pages + p];
            if (crc != want) {
                return String.format("page %d CRC32C mismatch (expected %08x, data %08x)", p, want, crc);
            }
        }
        return null;
    }

    /** Counts and logs a slot that failed its check (the caller dropped it under the lock). */
    private void droppedAsBad(int slot, BlockKey key, String why) {
        stats.corruptBlocks.increment();
        LOG.log(System.Logger.Level.WARNING, "read cache " + dataFile + " slot " + slot + " (offset " + (long) slot * blockSize
                + ") for " + key + ": " + why + "; dropped, refetching from the bucket");
    }

    /**
     * Reads cached blocks {@code firstBlock..firstBlock+count-1} of {@code obj}, whole, into
     * {@code buf} (block k at {@code k * blockSize}), each run of them held in consecutive slots with
     * one {@code pread} (a sequential reader after a restart reads 1 MiB per call, not 64 KiB), and
     * verifies every page against its CRC as {@link #read} does. Returns a mask of the blocks that
     * are verified hits (bit k: block {@code firstBlock + k}; {@code count <= 64}); the others are
     * missing or were dropped as corrupt (their bytes in {@code buf} are not data), and the caller
     * fetches them from the bucket.
     */
    long readBlocks(CachedObject obj, int firstBlock, int count, ByteBuffer buf) {
        int[] slots = new int[count];
        String[] why = null; // why block k is not a hit: allocated at the first problem only
        lock.lock();
        try {
            for (int k = 0; k < count; k++) {
                int b = firstBlock + k;
                slots[k] = table.lookupAndPin(obj.block(b));
                String mismatch = slots[k] < 0 ? null
                        : indexMismatch(table.crc(slots[k]), table.length(slots[k]), obj.blockCrcs()[b], obj.blockLength(b, blockSize));
                if (mismatch != null) {
                    why = problem(why, count, k, mismatch);
                }
            }
        } finally {
            lock.unlock();
        }
        long good = 0;
        try {
            for (int k = 0; k < count; ) {
                if (slots[k] < 0 || hasProblem(why, k)) {
                    k++;
                    continue;
                }
                int e = k + 1;
                while (e < count && slots[e] == slots[e - 1] + 1 && !hasProblem(why, e)) {
                    e++;
                }
                int start = k * blockSize;
                int end = (e - 1) * blockSize + obj.blockLength(firstBlock + e - 1, blockSize);
                buf.clear().limit(end).position(start);
                try {
                    readFile(buf, (long) slots[k] * blockSize - (long) k * blockSize, true);
                    stats.fileReads.increment();
                } catch (IOException ex) {
                    for (int m = k; m < e; m++) {
                        why = problem(why, count, m, "read failed: " + ex);
                    }
                    k = e;
                    continue;
                }
                for (int m = k; m < e; m++) {
                    int len = obj.blockLength(firstBlock + m, blockSize);
                    String mismatch = pageMismatch(buf, m * blockSize, slots[m], 0, (len + PAGE - 1) / PAGE, len);
                    if (mismatch == null) {
                        good |= 1L << m;
                    } else {
                        why = problem(why, count, m, mismatch);
                    }
                }
                k = e;
            }
        } finally {
            lock.lock();
            try {
                for (int k = 0; k < count; k++) {
                    if (slots[k] < 0) {
                        continue;
                    }
                    table.unpin(slots[k]);
                    if ((good & (1L << k)) == 0 && table.drop(slots[k], obj.block(firstBlock + k))) {
                        dirty = true;
                    }
                }
            } finally {
                lock.unlock();
            }
        }
        for (int k = 0; k < count; k++) {
            if (slots[k] >= 0 && (good & (1L << k)) == 0) {
                droppedAsBad(slots[k], obj.block(firstBlock + k), why == null ? null : why[k]);
            }
        }
        return good;
    }

    private static String[] problem(String[] why, int count, int k, String reason) {
        String[] w = why == null ? new String[count] : why;
        w[k] = reason;
        return w;
    }

    private static boolean hasProblem(String[] why, int k) {
        return why != null && why[k] != null;
    }

    /** Drops {@code key}'s block if it is cached (its object was deleted); true if it was. */
    boolean forget(BlockKey key) {
        lock.lock();
        try {
            int slot = table.lookup(key);
            if (slot >= 0 && table.drop(slot, key)) {
                dirty = true;
                return true;
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Fills a run of blocks whose bytes lie back to back in {@code run} (block {@code k} from
     * {@code k * blockSize}, {@code lengths[k]} bytes; only the last may be short); a null key is
     * skipped. The slots are reserved under one lock acquisition, so the free slots a run takes
     * stay together, and each stretch of consecutive slots is written with one write (O_DIRECT
     * for a {@code streaming} fill where the shard has it, "Streaming I/O bypasses the page cache"
     * in docs/read-cache.md). Blocks cached
     * already, or with no slot to evict, are skipped; a failed write abandons its stretch's slots.
     * The caller must not touch {@code run} until this returns: the padding of a short last block is
     * zeroed in it. {@code pageCrcs} holds the CRC32C of every page of the run's blocks (block k's
     * page p at {@code pageCrcsAt + k * pages + p}, pages past a short block's end 0): computed in
     * the pass that checked the blocks against their header CRCs, so no second pass is made here.
     */
    void fillRun(BlockKey[] keys, int[] crcs, int[] lengths, ByteBuffer run, boolean streaming, int[] pageCrcs, int pageCrcsAt) {
        // A tiny shard (a few slots, tests) fills block after block, each evicting the one before if
        // it must, so the newest blocks are the ones kept; so does a run longer than what the shard
        // can evict right now.
        Run r = new Run(keys, crcs, lengths, run, streaming, pageCrcs, pageCrcsAt);
        if (geometry.slots() < 4 * keys.length || !fillRange(r, 0, keys.length, true)) {
            for (int k = 0; k < keys.length; k++) {
                fillRange(r, k, k + 1, false);
            }
        }
    }

    /** What {@link #fillRun} was given. */
    private record Run(BlockKey[] keys, int[] crcs, int[] lengths, ByteBuffer bytes, boolean streaming, int[] pageCrcs, int pageCrcsAt) {}

    /**
     * Fills blocks {@code from..to-1} of the run. With {@code allOrRetry}, gives up (false, nothing
     * reserved) if a block after the first reserved one finds nothing to evict.
     */
    private boolean fillRange(Run r, int from, int to, boolean allOrRetry) {
        BlockKey[] keys = r.keys();
        int[] lengths = r.lengths();
        int[] slots = new int[to];
        java.util.Arrays.fill(slots, -1);
        lock.lock();
        try {
            boolean reserved = false;
            for (int k = from; k < to; k++) {
                int slot = keys[k] == null ? -1 : table.reserve(keys[k]);
                if (slot == SlotTable.NO_ROOM && reserved && allOrRetry) {
                    for (int f = from; f < k; f++) {
                        if (slots[f] >= 0) {
                            table.abandon(slots[f]);
                        }
                    }
                    return false;
                }
                slots[k] = Math.max(-1, slot);
                reserved |= slot >= 0;
            }
        } finally {
            lock.unlock();
        }
        for (int k = from; k < to; ) {
            if (slots[k] < 0) {
                k++;
                continue;
            }
            int end = k + 1;
            while (end < to && slots[end] == slots[end - 1] + 1 && lengths[end - 1] == blockSize) {
                end++;
            }
            int bytes = (end - k - 1) * blockSize + lengths[end - 1];
            try {
                writeSlots(r.bytes(), k * blockSize, bytes, (long) slots[k] * blockSize, r.streaming());
                stats.fileWrites.increment();
            } catch (IOException e) {
                stats.fillFailures.add(end - k);
                LOG.log(System.Logger.Level.WARNING, "read cache " + dataFile + ": fill of " + keys[k] + " and " + (end - k - 1)
                        + " following blocks into slots " + slots[k] + ".." + slots[end - 1] + " (offset " + (long) slots[k] * blockSize
                        + ") failed: " + e);
                lock.lock();
                try {
                    for (int f = k; f < end; f++) {
                        table.abandon(slots[f]);
                        slots[f] = -1;
                    }
                } finally {
                    lock.unlock();
                }
            }
            k = end;
        }
        int filled = 0;
        lock.lock();
        try {
            for (int k = from; k < to; k++) {
                if (slots[k] >= 0) {
                    System.arraycopy(r.pageCrcs(), r.pageCrcsAt() + k * pages, pageCrcs, slots[k] * pages, pages);
                    if (table.publish(slots[k], keys[k], r.crcs()[k], lengths[k])) {
                        dirty = true;
                    }
                    filled++;
                }
            }
        } finally {
            lock.unlock();
        }
        stats.fills.add(filled);
        return true;
    }

    /**
     * Writes the index if it changed and the persist interval has passed. A failed write is tried
     * again an interval later, not at the next fill, and is reported once per run of failures
     * (docs/read-cache.md, "When the index cannot be written").
     */
    void maybePersist() {
        if (System.nanoTime() - lastPersistNanos < persistEveryNanos || !persistLock.tryLock()) {
            return;
        }
        try {
            persist();
            if (persistFailuresInARow > 0) {
                persistFailuresInARow = 0;
                if (failingShards.decrementAndGet() == 0) {
                    LOG.log(System.Logger.Level.INFO, "read cache: every shard's index is written again (" + indexFile + " last)");
                }
            }
        } catch (IOException e) {
            lastPersistNanos = System.nanoTime();
            stats.indexWriteFailures.increment();
            // One warning while any shard of the cache fails (a deleted directory fails them all).
            if (persistFailuresInARow++ == 0 && failingShards.getAndIncrement() == 0) {
                LOG.log(System.Logger.Level.WARNING, "read cache: writing " + indexFile + " failed: " + e.getMessage()
                        + "; trying again every " + java.time.Duration.ofNanos(persistEveryNanos) + " (other shards that fail meanwhile"
                        + " are not reported again). The cache goes on serving reads and filling blocks, but a restart finds"
                        + " each such shard as of its last index written (empty if none)");
            } else {
                LOG.log(System.Logger.Level.DEBUG, () -> "read cache: writing " + indexFile + " failed: " + e.getMessage());
            }
        } finally {
            persistLock.unlock();
        }
    }

    /**
     * Writes the index of the READY slots: first fsyncs the data file, so every entry names bytes
     * that reached the disk (slots reused after the snapshot are caught by the CRC on read).
     */
    void persist() throws IOException {
        if (!persistLock.tryLock()) {
            return; // another thread is writing it right now
        }
        try {
            List<ShardIndexFile.Entry> entries = new ArrayList<>();
            lock.lock();
            try {
                if (!dirty) {
                    return;
                }
                table.forEachReady((slot, key) -> entries.add(new ShardIndexFile.Entry(slot, key, table.crc(slot), table.length(slot),
                        java.util.Arrays.copyOfRange(pageCrcs, slot * pages, (slot + 1) * pages))));
                dirty = false;
            } finally {
                lock.unlock();
            }
            try {
                bufferedFile.get().force(false);
                checkDataFileIsOurs();
                ShardIndexFile.write(indexFile, geometry, entries);
                stats.indexWrites.increment();
            } catch (IOException e) {
                lock.lock();
                try {
                    dirty = true;
                } finally {
                    lock.unlock();
                }
                throw e;
            }
            lastPersistNanos = System.nanoTime();
        } finally {
            persistLock.unlock();
        }
    }

    /**
     * Refuses to write an index for a data file that no longer has our file's name: deleted (with
     * its directory, say) or replaced while open. Such an index would describe another file's
     * slots; our blocks stay readable through the open file until the cache closes.
     */
    private void checkDataFileIsOurs() throws IOException {
        Object now;
        try {
            now = Files.readAttributes(dataFile, BasicFileAttributes.class).fileKey();
        } catch (NoSuchFileException e) {
            throw new IOException(dataFile + " was deleted while the cache had it open; its index is not written", e);
        }
        Object ours = dataFileKey;
        if (ours != null && now != null && !ours.equals(now)) {
            throw new IOException(dataFile + " was replaced by another file while the cache had it open; its index is not written");
        }
    }

    long evictions() {
        lock.lock();
        try {
            return table.evictions;
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return table.size();
        } finally {
            lock.unlock();
        }
    }

    /** Test hook: the file offset of the slot holding {@code key}, or -1. */
    long offsetOf(BlockKey key) {
        lock.lock();
        try {
            int s = table.lookup(key);
            return s < 0 ? -1 : (long) s * blockSize;
        } finally {
            lock.unlock();
        }
    }

    Path dataFile() {
        return dataFile;
    }

    void close() throws IOException {
        try {
            persist();
        } finally {
            try {
                bufferedFile.close();
            } finally {
                directFile.close();
            }
        }
    }

    /**
     * Reads {@code buf}'s bytes from its position to its limit, index {@code i} from file offset
     * {@code base + i}, leaving its position at the limit. A {@code streaming} read (whole blocks)
     * uses O_DIRECT where the shard has it: straight into {@code buf} where it is page-aligned with
     * room to round the read up to whole pages (bytes past the limit, up to the capacity, may then
     * be overwritten), else through a bounce buffer and a copy. Other reads go through the page cache.
     */
    private void readFile(ByteBuffer buf, long base, boolean streaming) throws IOException {
        FileChannel direct = directFile.get();
        int from = buf.position();
        int length = buf.remaining();
        int padded = (length + PAGE - 1) / PAGE * PAGE;
        if (!streaming || direct == null || (base + from) % PAGE != 0 || padded > ReadCache.MAX_FILE_RUN_BLOCKS * blockSize) {
            readFully(buf, bufferedFile.get(), base);
            return;
        }
        if (buf.isDirect() && from + padded <= buf.capacity() && buf.alignmentOffset(from, PAGE) == 0) {
            int limit = buf.limit();
            readFully(buf.limit(from + padded), direct, base);
            buf.limit(limit).position(limit);
            return;
        }
        ByteBuffer b = bounce.take();
        try {
            readFully(b.clear().limit(padded), direct, base + from);
            buf.put(b.flip().limit(length));
            stats.fileReadsBounced.increment();
        } finally {
            bounce.give(b);
        }
    }

    /** Reads {@code buf} from its position to its limit, index {@code i} from file offset {@code base + i}. */
    private void readFully(ByteBuffer buf, FileChannel ch, long base) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, base + buf.position());
            if (n < 0) {
                throw new IOException(dataFile + ": end of file at offset " + (base + buf.position()));
            }
        }
    }

    /**
     * Writes {@code length} bytes of {@code run} from {@code from} at file {@code position}: a
     * {@code streaming} fill with O_DIRECT when the shard has it and the bytes lie in a page-aligned
     * direct buffer with room to round the write up to whole pages (the fill path's run buffers
     * are), anything else through the page cache. The rounding bytes, zeroed here, stay inside the
     * last slot and past its block's length, so they are never read as data.
     */
    private void writeSlots(ByteBuffer run, int from, int length, long position, boolean streaming) throws IOException {
        int padded = (length + PAGE - 1) / PAGE * PAGE;
        FileChannel direct = directFile.get();
        if (!streaming || direct == null || !run.isDirect() || from + padded > run.capacity() || run.alignmentOffset(from, PAGE) != 0) {
            writeFully(run.duplicate().limit(from + length).position(from), bufferedFile.get(), position);
            return;
        }
        ByteBuffer d = run.duplicate().clear();
        for (int i = from + length; i < from + padded; i++) {
            d.put(i, (byte) 0);
        }
        writeFully(d.limit(from + padded).position(from), direct, position);
    }

    private void writeFully(ByteBuffer buf, FileChannel ch, long position) throws IOException {
        long start = position - buf.position();
        while (buf.hasRemaining()) {
            ch.write(buf, start + buf.position());
        }
    }

    /**
     * The data file opened one way, opened again when a thread interrupted during I/O closed it
     * (a FileChannel then closes for every thread: ClosedByInterruptException) rather than failing
     * every later read and fill of the shard.
     */
    private static final class Reopening {
        interface Opener {
            /** The channel, or null where this way of opening is not used (no O_DIRECT). */
            FileChannel open() throws IOException;
        }

        private final Opener opener;
        private volatile FileChannel channel;
        private volatile boolean closed;

        Reopening(Opener opener) throws IOException {
            this.opener = opener;
            this.channel = opener.open();
        }

        /** The channel, reopened if an interrupt closed it; null if the opener gave none. */
        FileChannel get() throws IOException {
            FileChannel ch = channel;
            if (closed) {
                throw new ClosedChannelException();
            }
            if (ch == null || ch.isOpen()) {
                return ch;
            }
            synchronized (this) {
                if (!channel.isOpen() && !closed) {
                    channel = opener.open();
                }
                return channel;
            }
        }

        /** The channel as it is, without reopening (null if the opener gave none). */
        FileChannel current() {
            return channel;
        }

        void close() throws IOException {
            closed = true;
            FileChannel ch = channel;
            if (ch != null) {
                ch.close();
            }
        }
    }
}
