package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** A GET buffer goes back to its pool once, when the last holder lets go, and never to a late joiner. */
class SharedRunTest {
    @Test
    void theBufferIsRecycledOnlyAfterTheLastReference() {
        RecycledBuffers pool = new RecycledBuffers(1024, 4, false);
        ByteBuffer b = pool.take();
        SharedRun run = new SharedRun(b, pool);
        assertTrue(run.retain(), "a joiner before the fetcher let go");
        run.release(); // the fetcher
        assertNotSame(b, pool.take(), "still held by the joiner: not back in the pool");
        run.release(); // the joiner
        assertSame(b, pool.take(), "recycled after the last release");
    }

    @Test
    void aJoinerArrivingAfterTheLastReleaseCannotRetain() {
        RecycledBuffers pool = new RecycledBuffers(1024, 4, false);
        SharedRun run = new SharedRun(pool.take(), pool);
        run.release();
        assertFalse(run.retain(), "the buffer may hold another GET's bytes by now");
        assertThrows(IllegalStateException.class, run::release);
    }
}
