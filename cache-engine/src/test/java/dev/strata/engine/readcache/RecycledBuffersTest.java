package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.util.HugePageBuffers;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link RecycledBuffers}: direct buffers are cut from huge-page slabs, page-aligned and apart;
 * a cache opened after another takes the buffers the first gave back (one pool per use in the
 * process); at most {@code retain} are kept.
 */
class RecycledBuffersTest {
    private static final int MIB = 1 << 20;

    private static long address(ByteBuffer b) {
        return MemorySegment.ofBuffer(b).address();
    }

    @Test
    void directBuffersAreCutFromOneSlabPageAlignedAndDisjoint() {
        RecycledBuffers pool = new RecycledBuffers(MIB, 4, true);
        ByteBuffer a = pool.take();
        ByteBuffer b = pool.take();
        assertEquals(MIB, a.capacity());
        assertEquals(MIB, b.capacity());
        assertEquals(0, address(a) % CacheShard.PAGE);
        assertEquals(0, address(b) % CacheShard.PAGE);
        assertEquals(MIB, Math.abs(address(a) - address(b)), "the two halves of one 2 MiB slab");
        if (HugePageBuffers.available()) {
            assertEquals(0, Math.min(address(a), address(b)) % HugePageBuffers.HUGE_PAGE, "the slab starts on a huge page");
        }
        // Disjoint: writing one does not change the other.
        for (int i = 0; i < MIB; i += 8) {
            a.putLong(i, -1L);
        }
        for (int i = 0; i < MIB; i += 8) {
            assertEquals(0L, b.getLong(i));
        }
    }

    @Test
    void buffersSmallerThanAPageStillStartOnPages() {
        RecycledBuffers pool = new RecycledBuffers(3000, 1000, true);
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 600; i++) { // more than one slab's worth (512 pages per 2 MiB)
            ByteBuffer b = pool.take();
            assertEquals(3000, b.capacity());
            assertEquals(0, address(b) % CacheShard.PAGE);
            assertTrue(seen.add(address(b)), "buffer handed out twice");
        }
    }

    @Test
    void aCacheOpenedAfterAnotherTakesTheBuffersItGaveBack() {
        String use = "RecycledBuffersTest " + System.nanoTime();
        RecycledBuffers first = RecycledBuffers.shared(use, MIB, 2, true);
        ByteBuffer taken = first.take();
        first.give(taken);
        RecycledBuffers second = RecycledBuffers.shared(use, MIB, 4, true);
        assertSame(first, second, "one pool per use and size in the process");
        Set<Long> handedOut = new HashSet<>();
        handedOut.add(address(second.take()));
        handedOut.add(address(second.take()));
        assertTrue(handedOut.contains(address(taken)), "the buffer given back is handed out again");
        assertNotSame(first, RecycledBuffers.shared(use, 2 * MIB, 2, true), "another size is another pool");
        assertNotSame(first, RecycledBuffers.shared(use + " other", MIB, 2, true), "another use is another pool");
    }

    @Test
    void atMostRetainBuffersAreKept() {
        RecycledBuffers pool = new RecycledBuffers(4096, 2, false);
        ByteBuffer a = pool.take();
        ByteBuffer b = pool.take();
        ByteBuffer c = pool.take();
        pool.give(a);
        pool.give(b);
        pool.give(c); // past retain: dropped
        Set<ByteBuffer> back = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        back.add(pool.take());
        back.add(pool.take());
        ByteBuffer fresh = pool.take();
        assertTrue(back.contains(a) && back.contains(b), "the two kept buffers come back");
        assertTrue(fresh != a && fresh != b && fresh != c, "the third is a new buffer: c was not kept");
    }
}
