package dev.strata.engine.readcache;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Buffers of one size, reused so that the cache's hot paths make no garbage: direct scratch
 * blocks for cache-file I/O, heap buffers for ranged GETs (a 1 MiB heap array per GET is a
 * humongous object in G1, and GC pauses stalled cold reads). Thread-locals would not do: NBD
 * requests run on short-lived virtual threads. A buffer is owned by whoever took it until it is
 * given back; at most {@code retain} are kept. Direct buffers start on a page boundary, so that
 * fills can write them with O_DIRECT.
 */
final class RecycledBuffers {
    private final int size;
    private final int retain;
    private final boolean direct;
    private final ConcurrentLinkedQueue<ByteBuffer> free = new ConcurrentLinkedQueue<>();
    private final AtomicInteger kept = new AtomicInteger();

    RecycledBuffers(int size, int retain, boolean direct) {
        this.size = size;
        this.retain = retain;
        this.direct = direct;
    }

    int size() {
        return size;
    }

    ByteBuffer take() {
        ByteBuffer b = free.poll();
        if (b == null) {
            return direct ? ByteBuffer.allocateDirect(size + CacheShard.PAGE).alignedSlice(CacheShard.PAGE).limit(size).slice()
                    : ByteBuffer.allocate(size);
        }
        kept.decrementAndGet();
        return b.clear();
    }

    void give(ByteBuffer b) {
        if (kept.incrementAndGet() <= retain) {
            free.offer(b);
        } else {
            kept.decrementAndGet();
        }
    }
}
