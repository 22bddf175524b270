package dev.strata.engine.journal;

import static dev.strata.engine.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.strata.engine.pacing.LinuxFileHints;
import dev.strata.engine.pacing.PacingPolicy;
import dev.strata.engine.pacing.PageCacheProbe;
import dev.strata.engine.util.DirectIoMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writeback pacing of buffered segments: on by default, off under O_DIRECT, harmless to the records. */
class JournalPacingTest {
    @TempDir
    Path dir;

    @Test
    void pacingIsOnByDefaultAndCanBeTurnedOff() {
        assertTrue(JournalOptions.defaults().writebackPacing().enabled());
        assertFalse(JournalOptions.builder().writebackPacing(PacingPolicy.disabled()).build().writebackPacing().enabled());
    }

    @Test
    void noPacerUnderODirectOrWhenDisabled() throws Exception {
        Path file = dir.resolve("f");
        java.nio.file.Files.write(file, new byte[4096]);
        assertNull(new SegmentChannels(dir, DirectIoMode.ON, PACING).pacerFor(file, true));
        assertNull(new SegmentChannels(dir, DirectIoMode.OFF, PacingPolicy.disabled()).pacerFor(file, false));
        if (LinuxFileHints.system().available()) {
            var pacer = new SegmentChannels(dir, DirectIoMode.OFF, PACING).pacerFor(file, false);
            assertNotNull(pacer);
            pacer.close();
        }
    }

    @Test
    void bufferedSegmentsAreDroppedFromThePageCacheAndReplayExactly() throws Exception {
        assumeTrue(LinuxFileHints.system().available(), "page-cache hints unavailable here");
        Random rnd = new Random(7);
        List<Rec> expected = new ArrayList<>();
        JournalOptions options = small(DirectIoMode.OFF).segmentSize(4 << 20).build();
        try (Journal j = Journal.open(dir, options, VOLUME, 1)) {
            for (int i = 0; i < 3000; i++) {
                expected.addAll(append(j, randomRecord(rnd, 40)));
                if (i % 500 == 0) {
                    j.flush();
                }
            }
            j.flush();
        }
        long resident = 0;
        long total = 0;
        for (Path p : segmentFiles(dir)) {
            resident += PageCacheProbe.residentPages(p);
            total += java.nio.file.Files.size(p) / 4096;
        }
        // Unpaced, every byte written (zero-fill and entries) would still be cached.
        assertTrue(resident < total / 10, "resident pages of the closed journal: " + resident + " of " + total);
        assertEquals(expected, replay(dir, 0).records());
    }
}
