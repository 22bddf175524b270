package dev.strata.engine.store;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with full jitter: retry n (0-based) waits a uniformly random time in
 * [0, min(cap, base·2ⁿ)]. Full jitter spreads the retries of many clients throttled at the same
 * moment, which a fixed exponential schedule would bring back in lockstep.
 */
record Backoff(Duration base, Duration cap) {

    /** The wait before retry number {@code retry} (0 for the first retry). */
    Duration delay(int retry) {
        long baseNanos = base.toNanos();
        long capNanos = cap.toNanos();
        // Shift with a bound so a large retry count cannot overflow.
        long ceiling = retry >= 62 || baseNanos > (capNanos >> Math.min(retry, 62)) ? capNanos : baseNanos << retry;
        ceiling = Math.min(ceiling, capNanos);
        return Duration.ofNanos(ThreadLocalRandom.current().nextLong(ceiling + 1));
    }
}
