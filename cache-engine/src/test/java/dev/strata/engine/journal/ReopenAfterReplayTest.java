package dev.strata.engine.journal;

import static dev.strata.engine.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.strata.engine.util.DirectIoMode;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReopenAfterReplayTest {
    @TempDir
    Path dir;
    @TempDir
    Path crashes;

    @Test
    void crashReplayReopenCyclesKeepOneContinuousChain() throws Exception {
        Random rnd = new Random(11);
        List<Rec> all = new ArrayList<>();
        Path current = dir;
        long next = 1;
        for (int cycle = 0; cycle < 4; cycle++) {
            Path image = crashes.resolve("cycle-" + cycle);
            try (Journal j = Journal.open(current, small(DirectIoMode.AUTO).build(), VOLUME, next)) {
                all.addAll(appendRandom(j, rnd, 60, 24));
                j.flush();
                long flushed = j.lastAppendedSeq();
                all.addAll(appendRandom(j, rnd, 10, 24)); // may be lost
                copyDir(current, image);                  // the power cut
                Replayed r = replay(image, 0);
                assertTrue(r.result().lastSeq() >= flushed, r.result().describe());
                assertFalse(r.result().chainBroken(), r.result().describe());
                all = new ArrayList<>(prefix(all, r.result().lastSeq()));
                assertEquals(all, r.records(), "after cycle " + cycle);
                next = r.result().lastSeq() + 1;
            }
            current = image; // the node restarts on what the disk had
        }
        assertEquals(all, replay(current, 0).records());
    }

    @Test
    void reopenStartsInAFreshSegmentAndLeavesTheTornTailBehind() throws Exception {
        List<Rec> first;
        try (Journal j = Journal.open(dir, small(), VOLUME, 1)) {
            first = appendRandom(j, new Random(3), 40, 24);
            j.flush();
        }
        // Tear the last entry: flip a byte in its data.
        List<EntryPos> entries = layout(dir);
        EntryPos last = entries.getLast();
        flip(last.segment(), last.offset() + 4096 + 1);
        Replayed r1 = replay(dir, 0);
        assertEquals(StopReason.CRC_MISMATCH, r1.result().stopReason());
        assertEquals(last.firstSeq() - 1, r1.result().lastSeq());
        long next = r1.result().lastSeq() + 1;

        List<Rec> second;
        try (Journal j = Journal.open(dir, small(), VOLUME, next)) {
            second = appendRandom(j, new Random(4), 40, 24);
            j.flush();
        }
        List<Rec> expected = new ArrayList<>(prefix(first, next - 1));
        expected.addAll(second);
        Replayed r2 = replay(dir, 0);
        assertEquals(expected, r2.records());
        assertFalse(r2.result().chainBroken(), r2.result().describe());
        // The damaged segment is still there, untouched: it holds records still needed.
        assertEquals(StopReason.CRC_MISMATCH, r2.result().segments().stream()
                .filter(s -> s.path().equals(last.segment())).findFirst().orElseThrow().endReason());
    }

    @Test
    void openRefusesASequenceNumberThatDoesNotContinueTheRecordsOnDisk() throws Exception {
        try (Journal j = Journal.open(dir, small(), VOLUME, 1)) {
            appendRandom(j, new Random(5), 10, 4);
            j.flush();
        }
        long last = replay(dir, 0).result().lastSeq();
        var e = assertThrows(IllegalArgumentException.class, () -> Journal.open(dir, small(), VOLUME, last));
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Journal.open(dir, small(), VOLUME, last + 5));
        Journal.open(dir, small(), VOLUME, last + 1).close();
    }

    @Test
    void reopenedJournalReleasesTheOldSegmentsOnceCovered() throws Exception {
        try (Journal j = Journal.open(dir, small(), VOLUME, 1)) {
            appendRandom(j, new Random(6), 150, 24);
            j.flush();
        }
        ReplayResult before = replay(dir, 0).result();
        int oldSegments = before.segmentsSeen();
        assertTrue(oldSegments > 2);
        try (Journal j = Journal.open(dir, small(), VOLUME, before.lastSeq() + 1)) {
            j.append(1, 0, 1, RecordKind.TRIM, null);
            j.flush();
            j.releaseThrough(before.lastSeq());
            assertEquals(oldSegments, j.stats().segmentsRecycled(), "every old segment recycled");
        }
        Replayed after = replay(dir, before.lastSeq());
        assertEquals(1, after.records().size());
        assertFalse(after.result().missingBefore(before.lastSeq()));
    }

    @Test
    void aJournalMissingNeededRecordsCanBeDeletedAndStartedAfresh() throws Exception {
        try (Journal j = Journal.open(dir, small(), VOLUME, 1)) {
            appendRandom(j, new Random(8), 150, 24);
            j.flush();
        }
        // The oldest segment is damaged: a replay from 0 reports the gap and delivers nothing.
        Path oldest = segmentFiles(dir).getFirst();
        flip(oldest, 100);
        Replayed r = replay(dir, 0);
        assertTrue(r.records().isEmpty());
        assertTrue(r.result().chainBroken(), r.result().describe());
        assertEquals(oldest, r.result().stopSegment());
        assertEquals(StopReason.BAD_SEGMENT_HEADER, r.result().stopReason());
        assertThrows(IllegalArgumentException.class, () -> Journal.open(dir, small(), VOLUME, 1));
        // The engine re-uploads what it could read some other way, then abandons the journal.
        assertTrue(Journal.deleteSegments(dir, VOLUME) > 2);
        assertTrue(segmentFiles(dir).isEmpty());
        try (Journal j = Journal.open(dir, small(), VOLUME, 1)) {
            j.append(1, 0, 1, RecordKind.TRIM, null);
        }
        assertEquals(1, replay(dir, 0).records().size());
    }

    static void flip(Path file, long offset) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x5a));
            ch.write(b.clear(), offset);
        }
    }
}
