package dev.strata.engine.coalescer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Gathers small sequential writes into "unfinished" clusters in front of the journal, so that a
 * run of 512 B – 4 KiB writes becomes one journal record (and one object extent) per cluster
 * instead of one per write (issue 4, seed 000). Design and the order rule: docs/coalescer.md.
 *
 * <p>A cluster is the aligned range [index × clusterBytes, (index + 1) × clusterBytes) of the
 * volume. An unfinished cluster holds the bytes [start, end) of its range (a contiguous run of
 * sequential writes); the first {@code writtenOut} of them are already in the journal (through
 * the {@link Sink}), the rest are <em>pending</em>. Up to {@code streams} clusters are open at
 * once, found by cluster index in a small open-addressing hash map (O(1), no boxing).
 *
 * <p>Per write (each piece of it within one cluster, in LBA order):
 * <ul>
 *   <li><b>sequential</b> (starts exactly at the end of the open cluster of its index) or
 *       <b>new</b> (no open cluster at its index): copied into the cluster; a full cluster is
 *       written out and finished (dropped);</li>
 *   <li>anything else (non-sequential inside an open cluster, or a write of a whole cluster or
 *       more) <b>passes straight through</b>: the pending bytes are written out first, clusters
 *       it overlaps are dropped (so no cluster ever holds stale data), then the write goes to
 *       the sink.</li>
 * </ul>
 *
 * <p><b>Order rule</b>: at most one cluster holds pending bytes at any time. Before bytes go
 * into another cluster, before a pass-through write, a trim or write-zeroes, and on
 * flush/FUA/snapshot/close, the pending cluster's pending bytes are written out as one record.
 * Each record therefore holds a contiguous run of the write order (in LBA order, which for
 * sequential appends is write order) that follows everything already in the journal, so the
 * journal is always write order and a crash leaves a prefix of it.
 *
 * <p>Concurrency: every method except {@link #generation()}, {@link #overlay} and
 * {@link #hasPendingOlderThan} must be called with the owner's write-order lock held (one
 * writer at a time); that lock is what orders write-outs with the owner's other writes. The
 * state readers look at (the hash map, cluster buffers and their [start, end)) is changed under
 * this class's own short {@link #lock}, which is never held while calling the sink, so a writer
 * waiting for journal space does not block readers. A reader takes {@link #generation()} before
 * reading the underlying store and calls {@link #overlay} afterwards; if a cluster was dropped
 * in between (its bytes may have moved to the store after the reader looked there) overlay
 * returns false and the reader repeats its read holding {@link #lock()}, which keeps clusters
 * from being dropped.
 */
public final class SequentialCoalescer {
    /** Where write-outs and pass-through writes go: the volume's journal-and-batch write path. */
    @FunctionalInterface
    public interface Sink {
        /**
         * Writes {@code data} (a multiple of 512 bytes; its position is not moved by the caller
         * afterwards) at byte {@code offset} through to the journal, after every earlier write;
         * returns the journal sequence number of its last record.
         */
        long write(long offset, ByteBuffer data) throws IOException;
    }

    /** Counters (metrics and benchmarks). */
    public static final class Stats {
        /** Writes (or pieces of writes) copied into a cluster. */
        public final LongAdder writesCoalesced = new LongAdder();
        public final LongAdder bytesCoalesced = new LongAdder();
        /** Writes (or pieces) that went straight through to the sink. */
        public final LongAdder writesPassedThrough = new LongAdder();
        /** Records written out of clusters, and their bytes. */
        public final LongAdder clustersWrittenOut = new LongAdder();
        public final LongAdder bytesWrittenOut = new LongAdder();
        /** Clusters finished because they were full. */
        public final LongAdder clustersFilled = new LongAdder();
        /** Clusters dropped because a pass-through write, trim or write-zeroes overlapped them. */
        public final LongAdder clustersInvalidated = new LongAdder();
        /** Clusters dropped to make room for a new stream (least recently written). */
        public final LongAdder clustersEvicted = new LongAdder();

        @Override
        public String toString() {
            return "writesCoalesced=" + writesCoalesced.sum() + " bytesCoalesced=" + bytesCoalesced.sum()
                    + " writesPassedThrough=" + writesPassedThrough.sum() + " clustersWrittenOut=" + clustersWrittenOut.sum()
                    + " bytesWrittenOut=" + bytesWrittenOut.sum() + " clustersFilled=" + clustersFilled.sum()
                    + " clustersInvalidated=" + clustersInvalidated.sum() + " clustersEvicted=" + clustersEvicted.sum();
        }
    }

    /** One cluster slot: its buffer is allocated once and reused. */
    private static final class Cluster {
        final ByteBuffer buf;
        /** A view of buf whose position/limit frame each write-out (no garbage per write). */
        final ByteBuffer view;
        boolean inUse;
        long index;
        long base;
        int start;
        int end;
        /** Bytes [start, writtenOut) are in the journal with exactly these contents. */
        int writtenOut;
        /** When the oldest pending byte was written (System.nanoTime), valid while pending. */
        long pendingSinceNanos;
        /** Write counter of the last write into the cluster (least-recently-written eviction). */
        long lastUsed;

        Cluster(int clusterBytes) {
            buf = ByteBuffer.allocateDirect(clusterBytes);
            view = buf.duplicate();
        }
    }

    private static final int SECTOR = 512;

    private final int clusterBytes;
    private final Sink sink;
    private final Cluster[] clusters;
    private final Stats stats = new Stats();
    private final ReentrantLock lock = new ReentrantLock();

    // Hash map cluster index -> cluster (open addressing, linear probing, backward-shift delete).
    private final long[] keys;
    private final Cluster[] values;
    private final int mask;

    /** The cluster holding pending bytes, or null. Writer only. */
    private Cluster pending;
    /** Journal sequence number of the last record this class sent to the sink. Writer only. */
    private long lastSeq;
    private long writeCounter;
    /** Open clusters; written under lock, read without it by {@link #overlay}'s fast path. */
    private volatile int open;
    /** Incremented (under lock) whenever a cluster is dropped. */
    private volatile long generation;

    /**
     * @param clusterBytes cluster size: a multiple of 4096 (the journal's alignment)
     * @param streams      open clusters at most (concurrent sequential streams), 1–64
     */
    public SequentialCoalescer(int clusterBytes, int streams, Sink sink) {
        if (clusterBytes < 4096 || clusterBytes % 4096 != 0) {
            throw new IllegalArgumentException("coalescer cluster size must be a positive multiple of 4096: " + clusterBytes);
        }
        if (streams < 1 || streams > 64) {
            throw new IllegalArgumentException("coalescer streams must be 1-64: " + streams);
        }
        this.clusterBytes = clusterBytes;
        this.sink = sink;
        this.clusters = new Cluster[streams];
        for (int i = 0; i < streams; i++) {
            clusters[i] = new Cluster(clusterBytes);
        }
        int cap = Integer.highestOneBit(streams * 4 - 1) << 1;
        this.keys = new long[cap];
        this.values = new Cluster[cap];
        this.mask = cap - 1;
    }

    public int clusterBytes() {
        return clusterBytes;
    }

    public Stats stats() {
        return stats;
    }

    /** Open clusters (for tests and metrics). */
    public int openClusters() {
        return open;
    }

    /**
     * A write of {@code data} (512-byte multiple, its position is not moved) at {@code offset}.
     * Returns the journal sequence number to wait for when {@code fua} (everything of this write
     * is then written out), else 0.
     */
    public long write(long offset, ByteBuffer data, boolean fua) throws IOException {
        int length = data.remaining();
        if (length >= clusterBytes) {
            passThrough(offset, data);
        } else {
            int at = data.position();
            long end = offset + length;
            long o = offset;
            while (o < end) {
                long index = o / clusterBytes;
                long clusterEnd = (index + 1) * clusterBytes;
                int n = (int) (Math.min(end, clusterEnd) - o);
                piece(index, o, data, at + (int) (o - offset), n);
                o += n;
            }
        }
        if (fua) {
            writeOutPending();
            return lastSeq;
        }
        return 0;
    }

    private void piece(long index, long offset, ByteBuffer data, int dataAt, int n) throws IOException {
        int in = (int) (offset - index * clusterBytes);
        Cluster c = get(index);
        if (c != null && c.end != in) {
            // Neither sequential nor new: straight through (the cluster is dropped if it overlaps).
            ByteBuffer piece = data.slice(dataAt, n);
            passThrough(offset, piece);
            return;
        }
        if (pending != null && pending != c) {
            writeOut(pending); // the order rule: only one cluster holds pending bytes
        }
        lock.lock();
        try {
            if (c == null) {
                c = openCluster(index, in);
            }
            c.buf.put(in, data, dataAt, n);
            c.end = in + n;
            c.lastUsed = ++writeCounter;
        } finally {
            lock.unlock();
        }
        if (pending != c) {
            pending = c;
            c.pendingSinceNanos = System.nanoTime();
        }
        stats.writesCoalesced.increment();
        stats.bytesCoalesced.add(n);
        if (c.end == clusterBytes) {
            writeOut(c);
            stats.clustersFilled.increment();
            drop(c);
        }
    }

    /** Lock held, nothing pending outside {@code index}. A free slot, evicting the least recently written. */
    private Cluster openCluster(long index, int start) {
        Cluster c = null;
        Cluster lru = null;
        for (Cluster x : clusters) {
            if (!x.inUse) {
                c = x;
                break;
            }
            if (lru == null || x.lastUsed < lru.lastUsed) {
                lru = x;
            }
        }
        if (c == null) {
            // lru has nothing pending: the only pending cluster was written out by the caller.
            dropLocked(lru);
            stats.clustersEvicted.increment();
            c = lru;
        }
        c.inUse = true;
        c.index = index;
        c.base = index * clusterBytes;
        c.start = start;
        c.end = start;
        c.writtenOut = start;
        put(index, c);
        open = open + 1;
        return c;
    }

    private void passThrough(long offset, ByteBuffer data) throws IOException {
        writeOutPending();
        invalidate(offset, data.remaining());
        lastSeq = sink.write(offset, data);
        stats.writesPassedThrough.increment();
    }

    /**
     * Before a trim or write-zeroes of [offset, offset + length) (or anything else the owner
     * writes without this class): writes the pending bytes out and drops the clusters it overlaps.
     */
    public void beforeOtherWrite(long offset, long length) throws IOException {
        writeOutPending();
        invalidate(offset, length);
    }

    /** Drops every open cluster overlapping [offset, offset + length); nothing may be pending in them. */
    private void invalidate(long offset, long length) {
        if (open == 0) {
            return;
        }
        long end = offset + length;
        lock.lock();
        try {
            for (Cluster c : clusters) {
                if (c.inUse && c.base + c.start < end && c.base + c.end > offset) {
                    dropLocked(c);
                    stats.clustersInvalidated.increment();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Writes the pending bytes out (FLUSH, FUA, snapshot, flush to bucket, close); the cluster
     * stays open for further appends. Returns the last journal sequence number this class wrote.
     */
    public long writeOutPending() throws IOException {
        if (pending != null) {
            writeOut(pending);
        }
        return lastSeq;
    }

    /** True if a cluster has held pending bytes for at least {@code nanos} (any thread; a hint). */
    public boolean hasPendingOlderThan(long nanos) {
        Cluster p = pending;
        return p != null && System.nanoTime() - p.pendingSinceNanos >= nanos;
    }

    /** Writes out [writtenOut, end) of c: exactly the bytes not yet in the journal. */
    private void writeOut(Cluster c) throws IOException {
        if (c.writtenOut < c.end) {
            c.view.limit(c.end).position(c.writtenOut);
            lastSeq = sink.write(c.base + c.writtenOut, c.view);
            stats.clustersWrittenOut.increment();
            stats.bytesWrittenOut.add(c.end - c.writtenOut);
            c.writtenOut = c.end;
        }
        if (pending == c) {
            pending = null;
        }
    }

    private void drop(Cluster c) {
        lock.lock();
        try {
            dropLocked(c);
        } finally {
            lock.unlock();
        }
    }

    private void dropLocked(Cluster c) {
        if (!c.inUse) {
            return;
        }
        if (pending == c) {
            throw new IllegalStateException("dropping a cluster with pending bytes");
        }
        generation = generation + 1; // before open changes: overlay's fast path reads them in the other order
        remove(c.index);
        c.inUse = false;
        open = open - 1;
    }

    /** A crash: pending bytes are lost (they were never acknowledged durable), every cluster is dropped. */
    public void crash() {
        pending = null;
        lock.lock();
        try {
            for (Cluster c : clusters) {
                dropLocked(c);
            }
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- readers

    /** Taken by a reader before it reads the underlying store. */
    public long generation() {
        return generation;
    }

    /** The lock a reader holds to repeat a read whose {@link #overlay} failed. */
    public ReentrantLock lock() {
        return lock;
    }

    /**
     * Copies the bytes open clusters hold for [offset, offset + length) over {@code dst} (whose
     * index {@code dstAt} is {@code offset}); returns false, copying nothing, if a cluster was
     * dropped since {@code generation} (the caller then re-reads under {@link #lock()}).
     */
    public boolean overlay(long offset, ByteBuffer dst, int dstAt, int length, long generation) {
        boolean held = lock.isHeldByCurrentThread(); // the retry: no cluster can be dropped meanwhile
        if (!held && open == 0 && this.generation == generation) {
            return true; // reads open, then generation: a drop writes them in the other order
        }
        lock.lock();
        try {
            if (!held && this.generation != generation) {
                return false;
            }
            if (open == 0) {
                return true;
            }
            long end = offset + length;
            long first = offset / clusterBytes;
            long last = (end - 1) / clusterBytes;
            if (last - first + 1 <= clusters.length) {
                for (long i = first; i <= last; i++) {
                    Cluster c = get(i);
                    if (c != null) {
                        copy(c, offset, end, dst, dstAt);
                    }
                }
            } else {
                for (Cluster c : clusters) {
                    if (c.inUse) {
                        copy(c, offset, end, dst, dstAt);
                    }
                }
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private static void copy(Cluster c, long offset, long end, ByteBuffer dst, int dstAt) {
        long from = Math.max(offset, c.base + c.start);
        long to = Math.min(end, c.base + c.end);
        if (from < to) {
            dst.put(dstAt + (int) (from - offset), c.buf, (int) (from - c.base), (int) (to - from));
        }
    }

    // ---------------------------------------------------------------- hash map (lock held for changes)

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }

    private Cluster get(long key) {
        for (int i = slot(key); ; i = (i + 1) & mask) {
            Cluster v = values[i];
            if (v == null) {
                return null;
            }
            if (keys[i] == key) {
                return v;
            }
        }
    }

    private void put(long key, Cluster c) {
        int i = slot(key);
        while (values[i] != null && keys[i] != key) {
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = c;
    }

    private void remove(long key) {
        int i = slot(key);
        while (values[i] != null && keys[i] != key) {
            i = (i + 1) & mask;
        }
        if (values[i] == null) {
            return;
        }
        values[i] = null;
        // Backward-shift the entries after it so probing never stops at the hole too early.
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            if (values[j] == null) {
                return;
            }
            int home = slot(keys[j]);
            // Move j into the hole i if its home is not in the cyclic range (i, j].
            boolean between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (!between) {
                keys[i] = keys[j];
                values[i] = values[j];
                values[j] = null;
                i = j;
            }
        }
    }
}
