package dev.strata.engine.readcache.sim;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Zipf-distributed ranks over {@code n} items (inverse CDF), scattered over the items by a fixed permutation. */
final class Zipf {
    private final double[] cdf;
    private final long n;

    Zipf(int n, double s) {
        this.n = n;
        this.cdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1.0 / Math.pow(i + 1, s);
            cdf[i] = sum;
        }
        for (int i = 0; i < n; i++) {
            cdf[i] /= sum;
        }
    }

    /** An item in [0, n): rank r is item {@code r × odd mod n}-ish so hot items are not adjacent. */
    long next(SplittableRandom rnd) {
        int r = Arrays.binarySearch(cdf, rnd.nextDouble());
        if (r < 0) {
            r = -r - 1;
        }
        return Math.floorMod(r * 0x9E3779B1L, n);
    }
}
