package dev.strata.engine.objectlog;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Recycles the direct buffers batches are built in, so an 8 MiB allocation is not made per object.
 * Keeps at most {@code maxIdle} idle buffers; the rest are left to the garbage collector.
 */
public final class BufferPool {
    private final int bufferBytes;
    private final int maxIdle;
    private final ConcurrentLinkedQueue<ByteBuffer> idle = new ConcurrentLinkedQueue<>();

    public BufferPool(int bufferBytes, int maxIdle) {
        this.bufferBytes = bufferBytes;
        this.maxIdle = maxIdle;
    }

    public ByteBuffer take() {
        ByteBuffer b = idle.poll();
        return b != null ? b.clear() : ByteBuffer.allocateDirect(bufferBytes);
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
