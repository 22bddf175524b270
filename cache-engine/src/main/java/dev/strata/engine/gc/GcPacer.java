package dev.strata.engine.gc;

/**
 * Paces garbage collection: two token buckets, data bytes and object uploads, each refilled at
 * its rate and holding at most one second's worth, so GC never bursts past its share of the
 * bucket's bandwidth and request budget. Used by the one GC thread of a volume (not thread safe).
 */
public final class GcPacer {
    private final double bytesPerNano;
    private final double putsPerNano;
    private final double maxBytes;
    private final double maxPuts;
    private double bytes;
    private double puts;
    private long last = System.nanoTime();
    private long sleptNanos;

    public GcPacer(long bytesPerSecond, double putsPerSecond) {
        this.bytesPerNano = bytesPerSecond / 1e9;
        this.putsPerNano = putsPerSecond / 1e9;
        this.maxBytes = bytesPerSecond;
        this.maxPuts = Math.max(1, putsPerSecond);
        this.bytes = maxBytes;
        this.puts = maxPuts;
    }

    /** Waits until {@code n} bytes may be moved (a request larger than a second's worth waits for a full bucket, then goes). */
    public void acquireBytes(long n) throws InterruptedException {
        refill();
        double need = Math.min(n, maxBytes);
        if (bytes < need) {
            sleep((long) ((need - bytes) / bytesPerNano));
            refill();
        }
        bytes -= n;
    }

    /** Waits until one more object may be uploaded. */
    public void acquirePut() throws InterruptedException {
        refill();
        if (puts < 1) {
            sleep((long) ((1 - puts) / putsPerNano));
            refill();
        }
        puts -= 1;
    }

    /** Total time spent waiting, for the stats. */
    public long sleptNanos() {
        return sleptNanos;
    }

    private void refill() {
        long now = System.nanoTime();
        long dt = now - last;
        last = now;
        bytes = Math.min(maxBytes, bytes + dt * bytesPerNano);
        puts = Math.min(maxPuts, puts + dt * putsPerNano);
    }

    private void sleep(long nanos) throws InterruptedException {
        if (nanos > 0) {
            sleptNanos += nanos;
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        }
    }
}
