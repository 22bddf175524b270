package dev.strata.engine.pacing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The chunk-size rule, fed wait durations (deterministic). */
class ChunkSizerTest {
    private static final long MIB = 1L << 20;
    private static final long MS = 1_000_000L;
    private final PacingPolicy policy = PacingPolicy.defaults(); // 4..256 MiB, start 8, band 10..50 ms, window 16

    private static int feed(ChunkSizer s, int n, long waitNanos) {
        int changes = 0;
        for (int i = 0; i < n; i++) {
            if (s.record(waitNanos)) {
                changes++;
            }
        }
        return changes;
    }

    @Test
    void noDecisionBeforeAFullWindow() {
        ChunkSizer s = new ChunkSizer(policy);
        assertEquals(0, feed(s, 15, 0));
        assertEquals(8 * MIB, s.chunkBytes());
        assertEquals(-1, s.lastP95Nanos());
        assertTrue(s.record(0));
        assertEquals(16 * MIB, s.chunkBytes());
    }

    @Test
    void shortWaitsDoubleUpToTheMaximumOneStepPerWindow() {
        ChunkSizer s = new ChunkSizer(policy);
        long[] expected = {16, 32, 64, 128, 256, 256};
        for (long e : expected) {
            feed(s, 16, 2 * MS);
            assertEquals(e * MIB, s.chunkBytes());
        }
        assertEquals(5, s.resizes());
    }

    @Test
    void longWaitsHalveDownToTheMinimum() {
        ChunkSizer s = new ChunkSizer(policy);
        feed(s, 16, 200 * MS);
        assertEquals(4 * MIB, s.chunkBytes());
        assertEquals(0, feed(s, 64, 200 * MS), "already at the minimum");
        assertEquals(4 * MIB, s.chunkBytes());
    }

    @Test
    void waitsInTheBandKeepTheSize() {
        ChunkSizer s = new ChunkSizer(policy);
        assertEquals(0, feed(s, 100, 30 * MS));
        assertEquals(8 * MIB, s.chunkBytes());
        assertEquals(30 * MS, s.lastP95Nanos());
    }

    @Test
    void p95InterpolatesBetweenTheTwoHighestOfSixteen() {
        ChunkSizer s = new ChunkSizer(policy);
        for (int i = 1; i <= 16; i++) {
            s.record(i * MS); // order does not matter; sorted 1..16 ms
        }
        // h = 15 × 0.95 = 14.25 → sorted[14] + 0.25 × (sorted[15] − sorted[14]) = 15 + 0.25 ms
        assertEquals(15_250_000L, s.lastP95Nanos());
        assertEquals(8 * MIB, s.chunkBytes());
    }

    @Test
    void oneSlowChunkAmongSixteenFastOnesStillCounts() {
        // 1 of 16 is above the 95th percentile's reach only partly: the interpolated p95 is a
        // quarter of the way to the outlier, so a single 1 s stall shrinks the chunk.
        ChunkSizer s = new ChunkSizer(policy);
        feed(s, 15, 1 * MS);
        assertTrue(s.record(1000 * MS));
        assertEquals(4 * MIB, s.chunkBytes());
    }

    @Test
    void afterAChangeTheOldWaitsAreForgotten() {
        ChunkSizer s = new ChunkSizer(policy);
        feed(s, 16, 100 * MS); // 8 -> 4 MiB
        assertEquals(4 * MIB, s.chunkBytes());
        // 15 short waits at the new size are not a window yet, even though 100 ms ones preceded them
        assertEquals(0, feed(s, 15, 1 * MS));
        assertEquals(4 * MIB, s.chunkBytes());
        assertTrue(s.record(1 * MS));
        assertEquals(8 * MIB, s.chunkBytes());
    }

    @Test
    void inTheBandTheWindowSlidesSoTheNextDecisionComesAfterOneChunk() {
        ChunkSizer s = new ChunkSizer(policy);
        feed(s, 16, 20 * MS);
        assertEquals(8 * MIB, s.chunkBytes());
        // one more wait is enough for a decision now (no new window of 16 needed)
        assertTrue(s.record(500 * MS));
        assertEquals(4 * MIB, s.chunkBytes());
    }

    @Test
    void halvingKeepsPageMultiples() {
        PacingPolicy odd = new PacingPolicy(true, 4096, 3 * 4096, 64 * 4096, Duration.ofMillis(10), Duration.ofMillis(50), 2);
        ChunkSizer s = new ChunkSizer(odd);
        feed(s, 2, 100 * MS);
        assertEquals(4096, s.chunkBytes()); // 12 KiB / 2 = 6 KiB, rounded down to a page
    }

    @Test
    void policyValidation() {
        assertThrows(IllegalArgumentException.class, () -> PacingPolicy.chunks(1000, 4096, 8192));
        assertThrows(IllegalArgumentException.class, () -> PacingPolicy.chunks(8192, 4096, 8192));
        assertThrows(IllegalArgumentException.class,
                () -> new PacingPolicy(true, 4096, 4096, 8192, Duration.ofMillis(30), Duration.ofMillis(50), 16));
        assertThrows(IllegalArgumentException.class,
                () -> new PacingPolicy(true, 4096, 4096, 8192, Duration.ofMillis(10), Duration.ofMillis(50), 1));
        assertFalse(PacingPolicy.disabled().enabled());
    }
}
