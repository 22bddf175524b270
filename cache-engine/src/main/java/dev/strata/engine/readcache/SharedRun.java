package dev.strata.engine.readcache;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bytes of one ranged GET (a run of consecutive blocks), shared by the reader that fetched
 * them, the readers that joined their flights and the fill that copies them into the cache, and
 * recycled when the last of them lets go.
 *
 * <p>Reference counting: the fetcher holds the first reference and gives it up once the fill is
 * done and the flights are gone from the flight table. A joiner must {@link #retain} before
 * reading (it may have found the flight just before it was removed); if that fails, the buffer
 * may already hold another GET's bytes, and the joiner reads the block again (it is cached by
 * now, or fetched anew), so a recycled buffer is never read as data.
 */
final class SharedRun {
    private final ByteBuffer bytes;
    private final RecycledBuffers pool;
    private final AtomicInteger refs = new AtomicInteger(1);

    /** {@code pool} null: not recycled (left to the garbage collector). */
    SharedRun(ByteBuffer bytes, RecycledBuffers pool) {
        this.bytes = bytes;
        this.pool = pool;
    }

    /** The whole run, from 0 to its limit; read it only while holding a reference. */
    ByteBuffer bytes() {
        return bytes;
    }

    /** Takes a reference; false if the run was already released (its buffer may be reused). */
    boolean retain() {
        for (int r = refs.get(); r > 0; r = refs.get()) {
            if (refs.compareAndSet(r, r + 1)) {
                return true;
            }
        }
        return false;
    }

    /** Gives a reference back; the last one recycles the buffer. */
    void release() {
        int r = refs.decrementAndGet();
        if (r == 0 && pool != null) {
            pool.give(bytes);
        } else if (r < 0) {
            throw new IllegalStateException("run released more often than retained");
        }
    }

    /** Block data handed to joiners: {@code length} bytes of {@code run} from {@code offset}. */
    record Block(SharedRun run, int offset, int length) {
        /** A read-only view of the block; valid while the caller holds a reference to the run. */
        ByteBuffer data() {
            return run.bytes.slice(offset, length).asReadOnlyBuffer();
        }
    }
}
