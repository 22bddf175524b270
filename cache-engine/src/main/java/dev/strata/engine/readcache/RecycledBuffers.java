package dev.strata.engine.readcache;

import dev.strata.engine.util.HugePageBuffers;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Buffers of one size, reused so that the cache's hot paths make no garbage: direct scratch
 * blocks for cache-file I/O, heap buffers for ranged GETs (a 1 MiB heap array per GET is a
 * humongous object in G1, and GC pauses stalled cold reads). Thread-locals would not do: NBD
 * requests run on short-lived virtual threads. A buffer is owned by whoever took it until it is
 * given back; at most {@code retain} are kept. Direct buffers are cut from slabs of huge pages
 * ({@link HugePageBuffers}), so that fills and cache reads move them with O_DIRECT in one segment
 * per huge page rather than one per 4 KiB page.
 *
 * <p>The caches of one process share their pools ({@link #shared}), one per use: a fresh huge page
 * costs milliseconds to fault in (the hypervisor backs it on first touch: ~5 ms per 2 MiB on
 * these VMs), so a cache opened after another (a restarted engine, the benchmark's every round,
 * the tests) takes the buffers its predecessor gave back instead of mapping new ones. Sharing
 * adds no way to misuse a buffer: it is still owned by one taker at a time until given back.
 */
final class RecycledBuffers {
    private static final ConcurrentHashMap<String, RecycledBuffers> SHARED = new ConcurrentHashMap<>();

    private final int size;
    private final AtomicInteger retain;
    private final boolean direct;
    private final ConcurrentLinkedQueue<ByteBuffer> free = new ConcurrentLinkedQueue<>();
    private final AtomicInteger kept = new AtomicInteger();

    RecycledBuffers(int size, int retain, boolean direct) {
        this.size = size;
        this.retain = new AtomicInteger(retain);
        this.direct = direct;
    }

    /**
     * The process's pool for {@code use} (a name: one pool per use, so that uses do not take each
     * other's share) with buffers of {@code size}; it keeps the largest {@code retain} asked for.
     */
    static RecycledBuffers shared(String use, int size, int retain, boolean direct) {
        RecycledBuffers pool = SHARED.computeIfAbsent(use + "/" + size + (direct ? "/direct" : "/heap"), k -> new RecycledBuffers(size, retain, direct));
        pool.retain.accumulateAndGet(retain, Math::max);
        return pool;
    }

    int size() {
        return size;
    }

    ByteBuffer take() {
        ByteBuffer b = free.poll();
        if (b == null) {
            return direct ? fromNewSlab() : ByteBuffer.allocate(size);
        }
        kept.decrementAndGet();
        return b.clear();
    }

    /** A new slab of whole huge pages, cut into buffers: one is returned, the others kept (up to {@code retain}). */
    private ByteBuffer fromNewSlab() {
        ByteBuffer[] carved = HugePageBuffers.carve(size);
        for (int i = 1; i < carved.length; i++) {
            give(carved[i]);
        }
        return carved[0];
    }

    void give(ByteBuffer b) {
        if (kept.incrementAndGet() <= retain.get()) {
            free.offer(b);
        } else {
            kept.decrementAndGet();
        }
    }
}
