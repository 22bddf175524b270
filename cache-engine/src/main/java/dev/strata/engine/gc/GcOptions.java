package dev.strata.engine.gc;

import java.time.Duration;

/**
 * Tunables of a volume's garbage collector (docs/gc.md).
 *
 * @param enabled           run the background collector while the volume is open for writing
 * @param liveThreshold     an object is compacted when less than this fraction of its data is
 *                          still live (0.3: each byte copied frees at least 2.3 dead ones, so
 *                          the bucket write amplification stays below 1 / (1 - 0.3) ≈ 1.43)
 * @param bytesPerSecond    pacing: data GC reads and writes per second, at most
 * @param putsPerSecond     pacing: objects GC uploads per second, at most
 * @param deleteGrace       an object GC emptied is deleted no sooner than this after the map
 *                          checkpoints that no longer need it were stored; a node taking the
 *                          volume over must finish loading it within this time (docs/gc.md,
 *                          "Deleting"). Zero only in tests with no concurrent take-over.
 * @param interval          how often the collector looks for work
 */
public record GcOptions(boolean enabled, double liveThreshold, long bytesPerSecond, double putsPerSecond,
        Duration deleteGrace, Duration interval) {

    public GcOptions {
        if (!(liveThreshold > 0 && liveThreshold < 1)) {
            throw new IllegalArgumentException("GC live threshold must be between 0 and 1: " + liveThreshold);
        }
        if (bytesPerSecond <= 0 || !(putsPerSecond > 0) || deleteGrace.isNegative() || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("invalid GC options " + this);
        }
    }

    public static GcOptions defaults() {
        return new GcOptions(true, 0.3, 64L * 1024 * 1024, 4, Duration.ofMinutes(5), Duration.ofSeconds(10));
    }

    public GcOptions withEnabled(boolean v) {
        return new GcOptions(v, liveThreshold, bytesPerSecond, putsPerSecond, deleteGrace, interval);
    }

    public GcOptions withLiveThreshold(double v) {
        return new GcOptions(enabled, v, bytesPerSecond, putsPerSecond, deleteGrace, interval);
    }

    public GcOptions withPacing(long bytes, double puts) {
        return new GcOptions(enabled, liveThreshold, bytes, puts, deleteGrace, interval);
    }

    public GcOptions withDeleteGrace(Duration v) {
        return new GcOptions(enabled, liveThreshold, bytesPerSecond, putsPerSecond, v, interval);
    }

    public GcOptions withInterval(Duration v) {
        return new GcOptions(enabled, liveThreshold, bytesPerSecond, putsPerSecond, deleteGrace, v);
    }
}
