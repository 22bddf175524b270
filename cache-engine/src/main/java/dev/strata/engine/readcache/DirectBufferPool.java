package dev.strata.engine.readcache;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Scratch direct buffers of one block for cache I/O, reused so that hits make no garbage
 * (thread-locals would not do: NBD requests run on short-lived virtual threads). A buffer is
 * owned by whoever took it until it is given back; at most {@code retain} are kept.
 */
final class DirectBufferPool {
    private final int size;
    private final int retain;
    private final ConcurrentLinkedQueue<ByteBuffer> free = new ConcurrentLinkedQueue<>();
    private final AtomicInteger kept = new AtomicInteger();

    DirectBufferPool(int size, int retain) {
        this.size = size;
        this.retain = retain;
    }

    ByteBuffer take() {
        ByteBuffer b = free.poll();
        if (b == null) {
            return ByteBuffer.allocateDirect(size);
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
