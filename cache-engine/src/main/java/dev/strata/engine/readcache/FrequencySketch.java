package dev.strata.engine.readcache;

/**
 * Count-min sketch of 4-bit counters (4 rows) estimating how often a key was accessed recently.
 * Aging: after {@code 10 × capacity} increments every counter is halved, so old popularity fades
 * and the sketch follows a changing workload (TinyLFU's "reset").
 */
final class FrequencySketch {
    private static final int ROWS = 4;
    private static final long[] SEEDS = {0xc3a5c85c97cb3127L, 0xb492b66fbe98f273L, 0x9ae16a3b2f90404fL, 0xcbf29ce484222325L};
    private final byte[][] table;
    private final int mask;
    private final int sampleSize;
    private int additions;

    FrequencySketch(int capacity) {
        int width = Integer.highestOneBit(Math.max(64, capacity * 2 - 1)) << 1;
        this.table = new byte[ROWS][width];
        this.mask = width - 1;
        this.sampleSize = Math.max(64, 10 * capacity);
    }

    private int index(long hash, int row) {
        long h = BlockKey.mix(hash ^ SEEDS[row]);
        return (int) (h & mask);
    }

    void increment(long hash) {
        boolean added = false;
        for (int r = 0; r < ROWS; r++) {
            int i = index(hash, r);
            if (table[r][i] < 15) {
                table[r][i]++;
                added = true;
            }
        }
        if (added && ++additions >= sampleSize) {
            reset();
        }
    }

    int frequency(long hash) {
        int min = 15;
        for (int r = 0; r < ROWS; r++) {
            min = Math.min(min, table[r][index(hash, r)]);
        }
        return min;
    }

    private void reset() {
        for (byte[] row : table) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (byte) (row[i] >>> 1);
            }
        }
        additions /= 2;
    }
}
