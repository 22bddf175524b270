package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reference model's side of a crash that lost bypassed writes, found by a rare failure of
 * {@code RandomHistoryMatchesReferenceTest} (a node loss later showed a write the model had
 * counted as lost): when a later write covers every lost one, the recovered state cannot tell
 * which bypassed writes were lost, and counting them picked the wrong ones. Which of them reached
 * the bucket shows after a loss of the node, so the model takes the ranges the replay reports.
 */
class LostBypassedWritesAreMatchedByRangeTest {
    private static final int SECTORS = 64;

    /** wb A, wb B, zero everything, wb C; the replay lost B and C (their objects were not uploaded). */
    private static VolumeModel history() {
        VolumeModel m = new VolumeModel(SECTORS);
        m.apply(new VolumeModel.Op(0, 8, 1L << 16, true)); // A
        m.apply(new VolumeModel.Op(8, 8, 2L << 16, true)); // B
        m.apply(new VolumeModel.Op(0, SECTORS, 0)); // zero everything
        m.apply(new VolumeModel.Op(16, 8, 3L << 16, true)); // C
        return m;
    }

    @Test
    void rangesThatAreNotTheLastBypassedWritesOfAnyPrefixMatchNothing() {
        VolumeModel m = history();
        // A and B lost would fit the state at k = 2, but the replay reported B and C.
        assertEquals(-1, m.matchPrefix(new long[SECTORS], 0, List.of(new long[] {0, 8}, new long[] {16, 8})),
                "A then C are never the last two bypassed writes of a prefix");
    }

    @Test
    void theReportedRangesPickTheWritesThatWereLost() {
        VolumeModel m = history();
        int k = m.matchPrefix(new long[SECTORS], 0, List.of(new long[] {8, 8}, new long[] {16, 8}));
        assertEquals(4, k, "all four replayed, B and C lost");
        m.truncate(k);
        assertEquals(2, m.opCount(), "A and the zeroing remain: A is in the bucket, as a loss of the node would show");
    }
}
