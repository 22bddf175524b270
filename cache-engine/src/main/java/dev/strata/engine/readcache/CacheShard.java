package dev.strata.engine.readcache;

import dev.strata.engine.util.Crc32c;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 */
final class CacheShard {
    private static final System.Logger LOG = System.getLogger(CacheShard.class.getName());
    /**
     * Slots carry a CRC32C per 4 KiB page (computed at fill time from bytes already verified
     * against the object header), so a 4 KiB read reads and verifies 4 KiB, not the whole block.
     */
    static final int PAGE = 4096;

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
    private volatile FileChannel channel;
    private volatile boolean closed;
    private volatile long lastPersistNanos = System.nanoTime();

    private CacheShard(ReadCacheConfig c, int number, ReadCacheStats stats) {
        this.number = number;
        this.blockSize = c.blockSize();
        this.dataFile = c.dir().resolve(String.format("shard-%02d.data", number));
        this.indexFile = c.dir().resolve(String.format("shard-%02d.index", number));
        this.geometry = new ShardIndexFile.Geometry(number, c.shards(), c.blockSize(), c.slotsPerShard());
        this.persistEveryNanos = c.persistEvery().toNanos();
        this.stats = stats;
        this.table = new SlotTable(c.slotsPerShard(), c.policy().create(c.slotsPerShard(), number));
        this.pages = pagesPerBlock(blockSize);
        this.pageCrcs = new int[c.slotsPerShard() * pages];
    }

    /** Opens (or creates) the shard's files and loads its persisted index if it is valid for this geometry. */
    static CacheShard open(ReadCacheConfig c, int number, ReadCacheStats stats) throws IOException {
        CacheShard s = new CacheShard(c, number, stats);
        s.channel = s.openChannel();
        long want = (long) s.geometry.slots() * s.blockSize;
        if (s.channel.size() > want) {
            s.channel.truncate(want);
        } else if (s.channel.size() < want) {
            s.channel.write(ByteBuffer.allocate(1), want - 1); // sparse: slots cost disk only once filled
        }
        s.load();
        return s;
    }

    private FileChannel openChannel() throws IOException {
        return FileChannel.open(dataFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
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
                readFully(buf, (long) slot * blockSize);
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
                    readFully(buf, (long) slots[k] * blockSize - (long) k * blockSize);
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

    /** Stores a block ({@code data} from 0 to its limit, CRC {@code crc}); a failure is counted, never thrown. */
    void fill(BlockKey key, int crc, ByteBuffer data) {
        int slot;
        lock.lock();
        try {
            slot = table.reserve(key);
        } finally {
            lock.unlock();
        }
        if (slot < 0) {
            return; // cached already, or nothing evictable
        }
        int length = data.limit();
        int[] crcs = new int[pages];
        for (int k = 0; k * PAGE < length; k++) {
            crcs[k] = Crc32c.of(data, k * PAGE, Math.min(length, (k + 1) * PAGE));
        }
        try {
            ByteBuffer d = data.duplicate().position(0);
            writeFully(d, (long) slot * blockSize);
        } catch (IOException e) {
            lock.lock();
            try {
                table.abandon(slot);
            } finally {
                lock.unlock();
            }
            stats.fillFailures.increment();
            LOG.log(System.Logger.Level.WARNING, "read cache " + dataFile + ": fill of " + key + " into slot " + slot
                    + " (offset " + (long) slot * blockSize + ") failed: " + e);
            return;
        }
        lock.lock();
        try {
            System.arraycopy(crcs, 0, pageCrcs, slot * pages, pages);
            if (table.publish(slot, key, crc, length)) {
                dirty = true;
            }
        } finally {
            lock.unlock();
        }
        stats.fills.increment();
    }

    /** Writes the index if it changed and the persist interval has passed. */
    void maybePersist() {
        if (System.nanoTime() - lastPersistNanos >= persistEveryNanos) {
            try {
                persist();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "read cache: writing " + indexFile + " failed: " + e.getMessage());
            }
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
                channel().force(false);
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
            closed = true;
            channel.close();
        }
    }

    private void readFully(ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int n = channel().read(buf, position + buf.position());
            if (n < 0) {
                throw new IOException(dataFile + ": end of file at offset " + (position + buf.position()));
            }
        }
    }

    private void writeFully(ByteBuffer buf, long position) throws IOException {
        long start = position - buf.position();
        while (buf.hasRemaining()) {
            channel().write(buf, start + buf.position());
        }
    }

    /**
     * The data file's channel. A thread interrupted during I/O closes a FileChannel for every
     * thread (ClosedByInterruptException); the shard then reopens it rather than failing every
     * later read and fill.
     */
    private FileChannel channel() throws IOException {
        FileChannel ch = channel;
        if (ch.isOpen() || closed) {
            if (closed) {
                throw new ClosedChannelException();
            }
            return ch;
        }
        synchronized (this) {
            if (!channel.isOpen() && !closed) {
                channel = openChannel();
            }
            return channel;
        }
    }
}
