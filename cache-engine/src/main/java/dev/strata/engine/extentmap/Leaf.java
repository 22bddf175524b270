package dev.strata.engine.extentmap;

import java.util.Arrays;

/**
 * A sorted run of extents stored as packed pairs in one {@code long[]}: {@code w[2i] = lba << 24
 * | length} and {@code w[2i+1] = location}. 16 bytes per extent and one array header per few
 * hundred extents is where the map's memory goes.
 *
 * <p>The array grows and shrinks in steps of {@link #GROW} entries instead of doubling: a
 * doubling array wastes a quarter of itself on average, which would cost ~4 B per extent; with
 * fixed steps the slack is at most {@code GROW - 1} entries per leaf. The price is one array
 * copy every {@code GROW} inserts into a leaf, which is the same order as the shift an insert
 * already does.
 */
final class Leaf {

    static final int GROW = 16;
    static final int LBA_SHIFT = 24;
    static final long LENGTH_MASK = (1L << LBA_SHIFT) - 1;

    /** Object header + {@code size} + array reference, rounded to 8 (compressed oops assumed). */
    static final long SHALLOW_BYTES = 24;
    static final long ARRAY_HEADER_BYTES = 16;

    long[] words;
    int size;

    Leaf(int capacityEntries) {
        words = new long[2 * roundUp(capacityEntries)];
    }

    static int roundUp(int entries) {
        return Math.max(GROW, (entries + GROW - 1) / GROW * GROW);
    }

    static long word0(long lba, long length) {
        return (lba << LBA_SHIFT) | length;
    }

    long lba(int i) {
        return words[2 * i] >>> LBA_SHIFT;
    }

    long length(int i) {
        return words[2 * i] & LENGTH_MASK;
    }

    long end(int i) {
        long w = words[2 * i];
        return (w >>> LBA_SHIFT) + (w & LENGTH_MASK);
    }

    long location(int i) {
        return words[2 * i + 1];
    }

    long firstLba() {
        return lba(0);
    }

    void set(int i, long lba, long length, long location) {
        words[2 * i] = word0(lba, length);
        words[2 * i + 1] = location;
    }

    int capacity() {
        return words.length >> 1;
    }

    /** Number of entries whose start is {@code <= lba}. */
    int countStartingAtOrBefore(long lba) {
        int lo = 0;
        int hi = size;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (lba(mid) <= lba) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Number of entries whose start is {@code < lba}. */
    int countStartingBefore(long lba) {
        int lo = 0;
        int hi = size;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (lba(mid) < lba) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Index of the first entry ending after {@code lba}, i.e. the first that can overlap it. */
    int firstEndingAfter(long lba) {
        int p = countStartingAtOrBefore(lba) - 1;
        return (p >= 0 && end(p) > lba) ? p : p + 1;
    }

    /** Opens {@code n} uninitialised slots at {@code pos}, shifting later entries up. */
    void openGap(int pos, int n) {
        ensureCapacity(size + n);
        System.arraycopy(words, 2 * pos, words, 2 * (pos + n), 2 * (size - pos));
        size += n;
    }

    /** Deletes entries {@code [from, to)}. */
    void delete(int from, int to) {
        System.arraycopy(words, 2 * to, words, 2 * from, 2 * (size - to));
        size -= to - from;
        trimIfSlack();
    }

    void ensureCapacity(int entries) {
        if (entries > capacity()) {
            words = Arrays.copyOf(words, 2 * roundUp(entries));
        }
    }

    /** Gives memory back after big deletes, with hysteresis so a put/remove pair does not reallocate. */
    void trimIfSlack() {
        if (capacity() - size >= 4 * GROW) {
            words = Arrays.copyOf(words, 2 * roundUp(size));
        }
    }

    /** Moves entries {@code [from, size)} into a new leaf and returns it. */
    Leaf splitOff(int from) {
        Leaf upper = new Leaf(size - from);
        System.arraycopy(words, 2 * from, upper.words, 0, 2 * (size - from));
        upper.size = size - from;
        size = from;
        trimIfSlack();
        return upper;
    }

    /** Appends all entries of {@code right}, whose extents all lie after this leaf's. */
    void appendAll(Leaf right) {
        ensureCapacity(size + right.size);
        System.arraycopy(right.words, 0, words, 2 * size, 2 * right.size);
        size += right.size;
    }

    /** Evens out two adjacent leaves ({@code left} before {@code right}) to half each. */
    static void redistribute(Leaf left, Leaf right) {
        int target = (left.size + right.size) / 2;
        if (left.size > target) {
            int k = left.size - target;
            right.openGap(0, k);
            System.arraycopy(left.words, 2 * target, right.words, 0, 2 * k);
            left.size = target;
            left.trimIfSlack();
        } else if (left.size < target) {
            int k = target - left.size;
            left.ensureCapacity(target);
            System.arraycopy(right.words, 0, left.words, 2 * left.size, 2 * k);
            left.size = target;
            right.delete(0, k);
        }
    }

    long memoryBytes() {
        return SHALLOW_BYTES + ARRAY_HEADER_BYTES + 8L * words.length;
    }
}
