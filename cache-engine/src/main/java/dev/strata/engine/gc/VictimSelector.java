package dev.strata.engine.gc;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Chooses what garbage collection compacts: objects whose live fraction is below the threshold,
 * emptiest first (greedy: the fewest bytes copied per byte freed). Objects nothing points into
 * any more are freed without a copy. Pure: the caller passes what it knows of each object.
 */
public final class VictimSelector {
    /** One object as GC sees it. */
    public record Candidate(long seq, long epoch, long liveBytes, long dataBytes) {
        public double liveFraction() {
            return dataBytes == 0 ? 0 : (double) liveBytes / dataBytes;
        }
    }

    /** What a pass would do: objects to free without copying, and objects to compact, in order. */
    public record Selection(List<Candidate> empty, List<Candidate> compact) {
        public long bytesToCopy() {
            return compact.stream().mapToLong(Candidate::liveBytes).sum();
        }

        /** Object bytes the bucket holds no longer once the selection is collected. */
        public long bytesFreed() {
            return empty.stream().mapToLong(Candidate::dataBytes).sum() + compact.stream().mapToLong(Candidate::dataBytes).sum();
        }
    }

    private final double liveThreshold;

    public VictimSelector(double liveThreshold) {
        this.liveThreshold = liveThreshold;
    }

    public Selection select(List<Candidate> candidates) {
        List<Candidate> empty = new ArrayList<>();
        List<Candidate> compact = new ArrayList<>();
        for (Candidate c : candidates) {
            if (c.liveBytes <= 0) {
                empty.add(c);
            } else if (c.liveFraction() < liveThreshold) {
                compact.add(c);
            }
        }
        compact.sort(Comparator.comparingDouble(Candidate::liveFraction).thenComparingLong(Candidate::seq));
        return new Selection(empty, compact);
    }
}
