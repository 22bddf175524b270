package dev.strata.node.nbd;

import dev.strata.engine.util.HugePageBuffers;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct buffers for request and reply payloads, in power-of-two size classes from 4 KiB to the
 * maximum block size, shared by every connection of a server (thread-safe, lock-free). Keeps at
 * most {@code maxRetainedBytes} idle; beyond that released buffers are left to the GC. Why:
 * direct buffers avoid a copy on socket I/O but are expensive to allocate per request. Buffers
 * start on a page boundary, so that O_DIRECT reads (the read cache's hits) can land in them; those
 * of 64 KiB and more are cut from slabs of huge pages ({@link HugePageBuffers}), so that such a
 * read fills a 1 MiB buffer in one device segment rather than 256.
 */
final class BufferPool {
    private static final int MIN_SHIFT = 12;
    private static final int MAX_SHIFT = 25; // 32 MiB = NbdProtocol.MAX_BLOCK_SIZE
    /** Size classes from here up come from huge-page slabs; smaller ones are not worth pinning 2 MiB for. */
    private static final int SLAB_MIN = 64 << 10;

    @SuppressWarnings("unchecked")
    private final ConcurrentLinkedQueue<ByteBuffer>[] classes = new ConcurrentLinkedQueue[MAX_SHIFT - MIN_SHIFT + 1];
    private final AtomicLong retained = new AtomicLong();
    private final long maxRetainedBytes;

    BufferPool(long maxRetainedBytes) {
        this.maxRetainedBytes = maxRetainedBytes;
        for (int i = 0; i < classes.length; i++) {
            classes[i] = new ConcurrentLinkedQueue<>();
        }
    }

    /** A buffer with position 0 and limit {@code length} (≤ 32 MiB). */
    ByteBuffer acquire(int length) {
        int index = classIndex(length);
        ByteBuffer b = classes[index].poll();
        if (b != null) {
            retained.addAndGet(-b.capacity());
        } else {
            // Page-aligned: the read cache reads hits straight into it with O_DIRECT (else through a bounce buffer).
            int size = 1 << (index + MIN_SHIFT);
            b = size >= SLAB_MIN ? fromNewSlab(size) : HugePageBuffers.onOrdinaryPages(size);
        }
        b.clear().limit(length);
        return b;
    }

    /** A new slab of at least one huge page, cut into buffers of {@code size} (a power of two): one is returned, the rest pooled. */
    private ByteBuffer fromNewSlab(int size) {
        ByteBuffer[] carved = HugePageBuffers.carve(size);
        for (int i = 1; i < carved.length; i++) {
            release(carved[i]);
        }
        return carved[0];
    }

    void release(ByteBuffer b) {
        if (b == null || !b.isDirect() || Integer.bitCount(b.capacity()) != 1
                || b.capacity() < (1 << MIN_SHIFT) || b.capacity() > (1 << MAX_SHIFT)) {
            return;
        }
        if (retained.addAndGet(b.capacity()) > maxRetainedBytes) {
            retained.addAndGet(-b.capacity());
            return;
        }
        classes[Integer.numberOfTrailingZeros(b.capacity()) - MIN_SHIFT].offer(b);
    }

    private static int classIndex(int length) {
        if (length < 0 || length > (1 << MAX_SHIFT)) {
            throw new IllegalArgumentException("buffer length " + length);
        }
        int shift = Math.max(MIN_SHIFT, 32 - Integer.numberOfLeadingZeros(Math.max(1, length) - 1));
        return shift - MIN_SHIFT;
    }
}
