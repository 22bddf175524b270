package dev.strata.engine.journal;

import static dev.strata.engine.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.strata.engine.util.DirectIoMode;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A power cut is simulated by copying the directory while the journal is still running. */
class DurabilityBoundaryTest {
    @TempDir
    Path dir;
    @TempDir
    Path copies;

    @Test
    void everyFlushedRecordIsInACopyTakenRightAfterFlush() throws Exception {
        Random rnd = new Random(7);
        try (Journal j = Journal.open(dir, small(DirectIoMode.AUTO).build(), VOLUME, 1)) {
            List<Rec> all = new java.util.ArrayList<>();
            for (int round = 0; round < 8; round++) {
                all.addAll(appendRandom(j, rnd, 30, 24));
                j.flush();
                long flushed = j.lastAppendedSeq();
                all.addAll(appendRandom(j, rnd, 5, 24)); // acknowledged, not flushed: may or may not survive
                Path copy = copies.resolve("cut-" + round);
                copyDir(dir, copy);
                Replayed r = replay(copy, 0);
                assertTrue(r.result().lastSeq() >= flushed, "flushed through " + flushed + ", replayed " + r.result().describe());
                assertEquals(prefix(all, r.result().lastSeq()), r.records(), "a prefix of what was appended, nothing else");
            }
        }
    }
}
