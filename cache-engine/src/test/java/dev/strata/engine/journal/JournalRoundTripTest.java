package dev.strata.engine.journal;

import static dev.strata.engine.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.strata.engine.util.DirectIoMode;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class JournalRoundTripTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = DirectIoMode.class, names = {"OFF", "ON", "AUTO"})
    void recordsOfMixedKindsAndSizesReplayExactlyInOrderAcrossSegments(DirectIoMode mode) throws Exception {
        if (mode == DirectIoMode.ON) {
            assumeTrue(DirectIoMode.supportedIn(dir), "filesystem of " + dir + " refuses O_DIRECT");
        }
        Random rnd = new Random(42);
        List<Rec> expected = new ArrayList<>();
        try (Journal j = Journal.open(dir, small(mode).build(), VOLUME, 1)) {
            for (int i = 0; i < 400; i++) {
                expected.addAll(append(j, randomRecord(rnd, 40)));
                if (i % 37 == 0) {
                    j.flush(); // some small entries too
                }
            }
            expected.addAll(append(j, new Rec(0, 7, 1000, 300, RecordKind.WRITE, bytes(rnd, 300 * 512)))); // split in 3
            expected.addAll(append(j, new Rec(0, 7, 5000, Integer.MAX_VALUE, RecordKind.TRIM, null)));     // huge trim, not split
            j.flush();
            assertEquals(j.lastAppendedSeq(), j.durableSeq());
            JournalStats s = j.stats();
            assertEquals(expected.size(), s.recordsAppended());
            assertTrue(s.segmentsCreated() > 3, "records span several segments: " + s);
            assertTrue(s.entriesWritten() < expected.size(), "records are grouped into entries: " + s);
        }
        Replayed r = replay(dir, 0);
        assertEquals(expected, r.records());
        assertEquals(expected.getLast().seq(), r.result().lastSeq());
        assertEquals(1, r.result().firstSeq());
        assertFalse(r.result().chainBroken());
        assertFalse(r.result().stopReason().suspicious(), r.result().describe());
    }

    @Test
    void largeWriteIsSplitIntoRecordsAtConsecutiveLbasWithTheirOwnSequenceNumbers() throws Exception {
        Random rnd = new Random(1);
        byte[] data = bytes(rnd, 3 * MAX_ENTRY + 512);
        long last;
        try (Journal j = Journal.open(dir, small(), VOLUME, 10)) {
            last = j.append(3, 800, data.length / 512, RecordKind.WRITE, ByteBuffer.wrap(data));
            j.flush();
        }
        assertEquals(13, last);
        List<Rec> got = replay(dir, 9).records();
        assertEquals(4, got.size());
        int per = MAX_ENTRY / 512;
        for (int i = 0; i < 4; i++) {
            assertEquals(10 + i, got.get(i).seq());
            assertEquals(800 + (long) i * per, got.get(i).lba());
        }
        assertEquals(1, got.get(3).sectors());
    }

    @Test
    void freshJournalStartsAtTheCallersSequenceNumberAndReplayFiltersByFromSeq() throws Exception {
        List<Rec> expected;
        try (Journal j = Journal.open(dir, small(), VOLUME, 1000)) {
            expected = appendRandom(j, new Random(2), 50, 8);
            j.flush();
        }
        assertEquals(1000, expected.getFirst().seq());
        assertEquals(expected.subList(20, 50), replay(dir, 1019).records());
        assertEquals(2000, replay(dir, 2000).result().lastSeq(), "nothing after fromSeq: lastSeq is fromSeq");
        assertEquals(expected.getLast().seq(), replay(dir, 2000).result().chainLastSeq());
    }

    @Test
    void emptyOrMissingDirectoryReplaysNothing() throws Exception {
        Replayed r = replay(dir.resolve("missing"), 5);
        assertTrue(r.records().isEmpty());
        assertEquals(StopReason.NO_SEGMENTS, r.result().stopReason());
        assertEquals(5, r.result().lastSeq());
    }

    @Test
    void appendValidatesItsArguments() throws Exception {
        try (Journal j = Journal.open(dir, small(), VOLUME, 1)) {
            assertThrows(IllegalArgumentException.class, () -> j.append(1, 0, 2, RecordKind.WRITE, ByteBuffer.allocate(512)));
            assertThrows(IllegalArgumentException.class, () -> j.append(1, 0, 0, RecordKind.TRIM, null));
            assertThrows(IllegalArgumentException.class, () -> j.append(1, 0, 1, RecordKind.ZERO, ByteBuffer.allocate(512)));
            assertThrows(IllegalArgumentException.class, () -> j.awaitDurable(5));
        }
    }

    @Test
    void appendAfterCloseThrowsNamingTheDirectory() throws Exception {
        Journal j = Journal.open(dir, small(), VOLUME, 1);
        j.append(1, 0, 1, RecordKind.TRIM, null);
        j.close();
        var e = assertThrows(java.io.IOException.class, () -> j.append(1, 0, 1, RecordKind.TRIM, null));
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
        assertEquals(1, replay(dir, 0).records().size(), "close wrote and forced what was buffered");
    }

    static byte[] bytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }
}
