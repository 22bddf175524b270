package dev.strata.engine.journal;

import static dev.strata.engine.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.strata.engine.util.DirectIoMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentRecycleTest {
    @TempDir
    Path dir;

    @Test
    void releaseRecyclesSegmentsSoTheFileCountStaysBoundedAndStaleBytesNeverReplay() throws Exception {
        Random rnd = new Random(9);
        List<Rec> all = new ArrayList<>();
        long released = 0;
        JournalStats stats;
        try (Journal j = Journal.open(dir, small(DirectIoMode.AUTO).maxSegments(4).build(), VOLUME, 1)) {
            for (int round = 0; round < 40; round++) {
                all.addAll(appendRandom(j, rnd, 20, 24));
                j.flush();
                assertTrue(segmentFiles(dir).size() <= 4, "at most maxSegments files");
                // The engine uploads everything but the last few records, then releases.
                released = Math.max(released, j.lastAppendedSeq() - 10);
                j.releaseThrough(released);
            }
            stats = j.stats();
        }
        assertTrue(stats.segmentsRecycled() > 10, stats.toString());
        assertTrue(stats.segmentsCreated() <= 4, stats.toString());
        assertTrue(segmentFiles(dir).size() <= 4);
        long from = released;
        Replayed r = replay(dir, from);
        assertFalse(r.result().missingBefore(from), r.result().describe());
        assertEquals(all.stream().filter(x -> x.seq() > from).toList(), r.records());
        // And reopening on the recycled directory works and continues the chain.
        try (Journal j = Journal.open(dir, small(DirectIoMode.AUTO).maxSegments(4).build(), VOLUME, r.result().lastSeq() + 1)) {
            j.append(2, 0, 8, RecordKind.ZERO, null);
            j.flush();
        }
        assertEquals(all.getLast().seq() + 1, replay(dir, from).result().lastSeq());
    }
}
