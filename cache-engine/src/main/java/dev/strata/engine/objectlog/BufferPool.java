package dev.strata.engine.objectlog;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Recycles buffers of one size, so a large allocation is not made per object: the direct buffers
 * batches are built in, and ({@link #ofHeap}) the heap buffers of header GETs that read on into
 * the data area. Keeps at most {@code maxIdle} idle buffers; the rest are left to the garbage
 * collector.
 */
public final class BufferPool {
    private final int bufferBytes;
    private final int maxIdle;
    private final boolean direct;
    private final ConcurrentLinkedQueue<ByteBuffer> idle = new ConcurrentLinkedQueue<>();

    public BufferPool(int bufferBytes, int maxIdle) {
        this(bufferBytes, maxIdle, true);
    }

    private BufferPool(int bufferBytes, int maxIdle, boolean direct) {
        this.bufferBytes = bufferBytes;
        this.maxIdle = maxIdle;
        this.direct = direct;
    }

    /** A pool of heap buffers (which the S3 client reads a response straight into, without a staging copy). */
    public static BufferPool ofHeap(int bufferBytes, int maxIdle) {
        return new BufferPool(bufferBytes, maxIdle, false);
    }

    public ByteBuffer take() {
        ByteBuffer b = idle.poll();
        if (b != null) {
            return b.clear();
        }
        return direct ? ByteBuffer.allocateDirect(bufferBytes) : ByteBuffer.allocate(bufferBytes);
    }

    public void give(ByteBuffer b) {
        if (b.capacity() == bufferBytes && idle.size() < maxIdle) {
            idle.offer(b);
        }
    }

    public int bufferBytes() {
        return bufferBytes;
    }
}
