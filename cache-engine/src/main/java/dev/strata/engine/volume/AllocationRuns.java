package dev.strata.engine.volume;

import dev.strata.engine.extentmap.ExtentMap;
import dev.strata.engine.extentmap.RunVisitor;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns extent-map runs into {@link Volume#allocation} runs: adjacent runs of the same kind
 * merge, at most {@code maxRuns} are kept, and once one is dropped everything after it is
 * dropped too (a later run must not merge into the last kept one across the skipped ones).
 * In a volume with a parent layer an unmapped run may be the parent's data, so only ZERO
 * extents count as holes there.
 */
final class AllocationRuns implements RunVisitor {
    private final int maxRuns;
    private final boolean hasParent;
    private final List<Volume.AllocationRun> runs = new ArrayList<>();
    private boolean full;

    AllocationRuns(int maxRuns, boolean hasParent) {
        this.maxRuns = maxRuns;
        this.hasParent = hasParent;
    }

    @Override
    public void run(long lba, long sectors, long location) {
        if (full) {
            return;
        }
        boolean hole = ZeroExtents.isZero(location) || (!hasParent && location == ExtentMap.UNMAPPED);
        long bytes = sectors * Volume.SECTOR_SIZE;
        if (!runs.isEmpty() && runs.getLast().hole() == hole) {
            runs.set(runs.size() - 1, new Volume.AllocationRun(runs.getLast().length() + bytes, hole));
        } else if (runs.size() < maxRuns) {
            runs.add(new Volume.AllocationRun(bytes, hole));
        } else {
            full = true;
        }
    }

    /** The kept runs: a prefix of the range looked up. */
    List<Volume.AllocationRun> runs() {
        return runs;
    }
}
