package dev.strata.engine.pacing;

import java.time.Duration;

/**
 * How a {@link WritebackPacer} sizes its chunks (see docs/writeback-pacing.md for the rule and
 * why it has these defaults).
 *
 * @param enabled           false turns pacing off: whoever owns the policy creates no pacer
 * @param minChunkBytes     smallest chunk, a multiple of 4096
 * @param initialChunkBytes chunk size of a new pacer, within [min, max]
 * @param maxChunkBytes     largest chunk: bounds the page cache a paced file holds dirty or
 *                          under writeback to about 2 × this
 * @param growBelow         the chunk doubles when the p95 of the recent waits is below this
 * @param shrinkAbove       the chunk halves when the p95 of the recent waits is above this; at
 *                          least 2 × {@code growBelow}, so that a doubling (which about doubles
 *                          the wait) cannot immediately trigger a halving, and vice versa
 * @param window            waits measured at the current chunk size before it may change
 */
public record PacingPolicy(
        boolean enabled,
        long minChunkBytes,
        long initialChunkBytes,
        long maxChunkBytes,
        Duration growBelow,
        Duration shrinkAbove,
        int window) {

    public static final long PAGE = 4096;
    public static final long DEFAULT_MIN_CHUNK = 4L << 20;
    public static final long DEFAULT_INITIAL_CHUNK = 8L << 20;
    public static final long DEFAULT_MAX_CHUNK = 256L << 20;
    public static final Duration DEFAULT_GROW_BELOW = Duration.ofMillis(10);
    public static final Duration DEFAULT_SHRINK_ABOVE = Duration.ofMillis(50);
    public static final int DEFAULT_WINDOW = 16;

    public PacingPolicy {
        if (growBelow == null || shrinkAbove == null) {
            throw new IllegalArgumentException("pacing policy: growBelow and shrinkAbove are required");
        }
        if (minChunkBytes < PAGE || minChunkBytes % PAGE != 0) {
            throw new IllegalArgumentException("pacing policy: minChunkBytes must be a positive multiple of 4096, got " + minChunkBytes);
        }
        if (initialChunkBytes < minChunkBytes || initialChunkBytes > maxChunkBytes || initialChunkBytes % PAGE != 0 || maxChunkBytes % PAGE != 0) {
            throw new IllegalArgumentException("pacing policy: need min <= initial <= max chunk bytes, all multiples of 4096; got "
                    + minChunkBytes + " <= " + initialChunkBytes + " <= " + maxChunkBytes);
        }
        if (growBelow.isNegative() || shrinkAbove.compareTo(growBelow.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("pacing policy: need 0 <= 2 x growBelow <= shrinkAbove (else the chunk size oscillates); got "
                    + growBelow + " and " + shrinkAbove);
        }
        if (window < 2) {
            throw new IllegalArgumentException("pacing policy: window must be >= 2, got " + window);
        }
    }

    /** Pacing on: 4 MiB..256 MiB chunks starting at 8 MiB, aiming at waits of 10..50 ms at p95 over 16 chunks. */
    public static PacingPolicy defaults() {
        return new PacingPolicy(true, DEFAULT_MIN_CHUNK, DEFAULT_INITIAL_CHUNK, DEFAULT_MAX_CHUNK,
                DEFAULT_GROW_BELOW, DEFAULT_SHRINK_ABOVE, DEFAULT_WINDOW);
    }

    /** Pacing off. */
    public static PacingPolicy disabled() {
        return defaults().withEnabled(false);
    }

    /** The default timing rule with other chunk bounds (e.g. small ones for tests, or a cache with small files). */
    public static PacingPolicy chunks(long minBytes, long initialBytes, long maxBytes) {
        return new PacingPolicy(true, minBytes, initialBytes, maxBytes, DEFAULT_GROW_BELOW, DEFAULT_SHRINK_ABOVE, DEFAULT_WINDOW);
    }

    public PacingPolicy withEnabled(boolean on) {
        return new PacingPolicy(on, minChunkBytes, initialChunkBytes, maxChunkBytes, growBelow, shrinkAbove, window);
    }
}
