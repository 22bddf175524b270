package dev.strata.engine.journal;

import static dev.strata.engine.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hand-made damage to an intact journal. For each kind, replay must return exactly the records
 * before the damage (computed from where the entries lie), report where and why it stopped, and
 * never throw or return a record after the damage.
 */
class CorruptJournalTest {
    @TempDir
    Path dir;
    @TempDir
    Path spare;

    private List<Rec> all;
    private List<EntryPos> entries;
    private List<Path> segments;

    @BeforeEach
    void writeIntactJournal() throws Exception {
        Random rnd = new Random(2024);
        all = new ArrayList<>();
        try (Journal j = Journal.open(dir, small(), VOLUME, 1)) {
            for (int i = 0; i < 300; i++) {
                all.addAll(append(j, randomRecord(rnd, 24)));
                if (rnd.nextInt(13) == 0) {
                    j.flush(); // entries of varied sizes
                }
            }
        }
        entries = layout(dir);
        segments = segmentFiles(dir);
        assertTrue(segments.size() >= 4, "several segments: " + segments.size());
        assertEquals(all.getLast().seq(), entries.getLast().lastSeq());
        assertEquals(all, replay(dir, 0).records());
    }

    @Test
    void truncatingTheLastSegmentAnywhereKeepsExactlyTheWholeEntriesBeforeTheCut() throws Exception {
        Path last = segments.getLast();
        Path backup = spare.resolve("backup");
        Files.copy(last, backup);
        long writtenEnd = entries.getLast().end();
        Random rnd = new Random(1);
        for (int trial = 0; trial < 80; trial++) {
            long cut = trial == 0 ? 0 : trial == 1 ? writtenEnd : rnd.nextLong(writtenEnd + 8192);
            try (FileChannel ch = FileChannel.open(last, StandardOpenOption.WRITE)) {
                ch.truncate(cut);
            }
            EntryPos firstLost = entries.stream().filter(e -> e.segment().equals(last) && (cut < JournalFormat.BLOCK || e.end() > cut))
                    .findFirst().orElse(null);
            long expectedLast = firstLost == null ? all.getLast().seq() : firstLost.firstSeq() - 1;
            Replayed r = replay(dir, 0);
            assertEquals(prefix(all, expectedLast), r.records(), "cut at " + cut);
            assertEquals(expectedLast, r.result().lastSeq());
            if (cut < JournalFormat.BLOCK) {
                assertStop(r.result(), last, 0, StopReason.BAD_SEGMENT_HEADER);
            } else if (firstLost != null) {
                assertStop(r.result(), last, firstLost.offset(), cut == firstLost.offset() ? StopReason.END_OF_FILE : StopReason.TORN);
            }
            Files.copy(backup, last, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Test
    void aFlippedByteAnywhereStopsReplayRightBeforeTheEntryItHits() throws Exception {
        Random rnd = new Random(2);
        int hits = 0;
        for (int trial = 0; trial < 250; trial++) {
            int si = rnd.nextInt(segments.size());
            Path seg = segments.get(si);
            long written = writtenEnd(si);
            long pos = rnd.nextLong(written + JournalFormat.BLOCK);
            byte old = readByte(seg, pos);
            writeByte(seg, pos, (byte) (old ^ (1 + rnd.nextInt(255))));
            Hit hit = hitBy(si, pos, pos + 1);
            Replayed r = replay(dir, 0);
            assertEquals(prefix(all, hit.lastIntact()), r.records(), "flip at " + seg.getFileName() + " offset " + pos);
            if (hit.entry() != null || hit.segmentHeader()) {
                hits++;
                assertTrue(r.result().stopReason().suspicious(), r.result().describe());
                assertHitLocation(r.result(), hit);
            }
            writeByte(seg, pos, old);
        }
        assertTrue(hits > 100, "most flips hit an entry: " + hits);
    }

    @Test
    void aZeroedBlockInTheMiddleStopsReplayRightBeforeTheEntryItHits() throws Exception {
        Random rnd = new Random(3);
        ByteBuffer zeros = ByteBuffer.allocate(JournalFormat.BLOCK);
        for (int trial = 0; trial < 120; trial++) {
            int si = rnd.nextInt(segments.size());
            Path seg = segments.get(si);
            long block = rnd.nextLong(writtenEnd(si) / JournalFormat.BLOCK) * JournalFormat.BLOCK;
            ByteBuffer saved = ByteBuffer.allocate(JournalFormat.BLOCK);
            try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch.read(saved, block);
                ch.write(zeros.clear(), block);
                Hit hit = hitBy(si, block, block + JournalFormat.BLOCK);
                Replayed r = replay(dir, 0);
                assertEquals(prefix(all, hit.lastIntact()), r.records(), "zeroed " + seg.getFileName() + " block at " + block);
                if (hit.segmentHeader()) {
                    assertStop(r.result(), seg, 0, StopReason.BAD_SEGMENT_HEADER);
                } else if (hit.entry() != null) {
                    assertTrue(Set.of(StopReason.EMPTY_BLOCK, StopReason.CRC_MISMATCH, StopReason.END_OF_FILE)
                            .contains(r.result().stopReason()), r.result().describe());
                    assertHitLocation(r.result(), hit);
                    if (hit.entry().offset() == block && hit.entry().offset() != JournalFormat.BLOCK) {
                        assertEquals(StopReason.EMPTY_BLOCK, r.result().stopReason(), "a zeroed header block reads as unwritten");
                    }
                }
                ch.write(saved.flip(), block);
            }
        }
    }

    @Test
    void aStaleEntryAfterTheTailIsNotReplayed() throws Exception {
        EntryPos tail = entries.getLast();
        Path last = tail.segment();
        long at = tail.end();
        // (1) an older entry of the same segment, copied after the tail: valid CRC, old sequence numbers
        EntryPos older = entries.stream().filter(e -> e.segment().equals(last)).findFirst().orElseThrow();
        assertNotEquals(tail, older, "the last segment holds several entries");
        copyEntry(older, last, at);
        Replayed r = replay(dir, 0);
        assertEquals(all, r.records());
        assertStop(r.result(), last, at, StopReason.SEQUENCE_GAP);

        // (2) an entry of another segment (a recycled file's previous life): names another segment id
        EntryPos other = entries.stream().filter(e -> !e.segment().equals(last)).findFirst().orElseThrow();
        copyEntry(other, last, at);
        r = replay(dir, 0);
        assertEquals(all, r.records());
        assertStop(r.result(), last, at, StopReason.WRONG_SEGMENT);

        // (3) even with exactly the next sequence number and a good CRC, a stale entry's segment id gives it away
        EntryBatch stale = new EntryBatch(4096);
        stale.add(all.getLast().seq() + 1, 1, 0, 8, RecordKind.WRITE, ByteBuffer.allocate(4096), 0, 4096);
        EntryHeader.encode(stale, SegmentFile.parseId(last.getFileName().toString()) - 1, new CRC32C());
        try (FileChannel ch = FileChannel.open(last, StandardOpenOption.WRITE)) {
            ch.write(stale.entry.clear().limit(stale.entryBytes()), at);
        }
        r = replay(dir, 0);
        assertEquals(all, r.records());
        assertStop(r.result(), last, at, StopReason.WRONG_SEGMENT);
    }

    @Test
    void aSegmentOfAnotherVolumeIsReportedNotReplayedAndLeftAlone() throws Exception {
        Path otherDir = spare.resolve("other");
        try (Journal j = Journal.open(otherDir, small(), "pvc-someone-else", 1)) {
            appendRandom(j, new Random(5), 20, 8);
        }
        long foreignId = SegmentFile.parseId(segments.getLast().getFileName().toString()) + 3;
        Path foreign = dir.resolve(SegmentFile.fileName(foreignId));
        // Rename needs a matching header id: rewrite it as that id, keeping the other volume.
        Files.copy(segmentFiles(otherDir).getFirst(), foreign);
        try (FileChannel ch = FileChannel.open(foreign, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer block = ByteBuffer.allocate(JournalFormat.BLOCK);
            new SegmentHeader(foreignId, small().segmentSize(), "pvc-someone-else").encode(block);
            ch.write(block, 0);
        }
        Replayed r = replay(dir, 0);
        assertEquals(all, r.records());
        assertEquals(1, r.result().foreignSegments().size());
        assertEquals("pvc-someone-else", r.result().foreignSegments().getFirst().volumeId());
        assertFalse(r.result().chainBroken());

        try (Journal j = Journal.open(dir, small(), VOLUME, all.getLast().seq() + 1)) {
            j.append(1, 0, 1, RecordKind.TRIM, null);
        }
        assertTrue(Files.exists(foreign), "never touched");
        assertEquals(all.getLast().seq() + 1, replay(dir, 0).result().lastSeq(), "new segment id above the foreign one");
        // Seen from the other volume, every segment of ours is the foreign one.
        ReplayResult theirs = replay(dir, "pvc-someone-else", 0).result();
        assertEquals(theirs.segmentsSeen() - 1, theirs.foreignSegments().size());
    }

    @Test
    void randomGarbageNeverMakesReplayThrowOrReturnARecordAfterTheDamage() throws Exception {
        Random rnd = new Random(6);
        for (int trial = 0; trial < 60; trial++) {
            int si = rnd.nextInt(segments.size());
            Path seg = segments.get(si);
            long pos = rnd.nextLong(writtenEnd(si));
            int len = 1 + rnd.nextInt(9000);
            byte[] garbage = new byte[len];
            rnd.nextBytes(garbage);
            ByteBuffer saved = ByteBuffer.allocate(len);
            try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch.read(saved, pos);
                ch.write(ByteBuffer.wrap(garbage), pos);
                Hit hit = hitBy(si, pos, pos + len);
                Replayed r = replay(dir, 0);
                assertEquals(prefix(all, hit.lastIntact()), r.records());
                ch.write(saved.flip(), pos);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** The first entry damaged by bytes [from, to) of segment index si (or its header), and the last record before it. */
    private record Hit(EntryPos entry, boolean segmentHeader, Path segment, long lastIntact) {
    }

    private Hit hitBy(int si, long from, long to) {
        long last = all.getLast().seq();
        if (from < JournalFormat.BLOCK) {
            EntryPos first = entries.stream().filter(e -> e.index() >= si).findFirst().orElse(null);
            return new Hit(null, true, segments.get(si), first == null ? last : first.firstSeq() - 1);
        }
        for (EntryPos e : entries) {
            long coveredEnd = e.offset() + JournalFormat.BLOCK + e.dataBytes(); // padding is not covered by the CRC
            if (e.index() == si && from < coveredEnd && to > e.offset()) {
                return new Hit(e, false, e.segment(), e.firstSeq() - 1);
            }
        }
        return new Hit(null, false, segments.get(si), last);
    }

    /** The stop is at the damaged entry; for the first entry of a segment, the end of the previous segment's data is as good. */
    private void assertHitLocation(ReplayResult r, Hit hit) {
        if (hit.segmentHeader()) {
            assertStop(r, hit.segment(), 0, StopReason.BAD_SEGMENT_HEADER);
            return;
        }
        EntryPos e = hit.entry();
        boolean atEntry = e.segment().equals(r.stopSegment()) && e.offset() == r.stopOffset();
        boolean atPreviousEnd = false;
        if (e.offset() == JournalFormat.BLOCK && e.index() > 0) {
            EntryPos prev = entries.get(entries.indexOf(e) - 1);
            atPreviousEnd = prev.segment().equals(r.stopSegment()) && prev.end() == r.stopOffset();
        }
        assertTrue(atEntry || atPreviousEnd, "expected stop at " + e + ", got " + r.describe());
    }

    private static void assertStop(ReplayResult r, Path segment, long offset, StopReason reason) {
        assertEquals(segment, r.stopSegment(), r.describe());
        assertEquals(offset, r.stopOffset(), r.describe());
        assertEquals(reason, r.stopReason(), r.describe());
    }

    private long writtenEnd(int si) {
        return entries.stream().filter(e -> e.index() == si).mapToLong(EntryPos::end).max().orElse(JournalFormat.BLOCK);
    }

    private static void copyEntry(EntryPos e, Path to, long at) throws Exception {
        ByteBuffer b = ByteBuffer.allocate((int) EntryHeader.entryBytes(e.dataBytes()));
        try (FileChannel src = FileChannel.open(e.segment(), StandardOpenOption.READ)) {
            src.read(b, e.offset());
        }
        try (FileChannel dst = FileChannel.open(to, EnumSet.of(StandardOpenOption.WRITE))) {
            dst.write(b.flip(), at);
        }
    }

    private static byte readByte(Path f, long pos) throws Exception {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, pos);
            return b.get(0);
        }
    }

    private static void writeByte(Path f, long pos, byte v) throws Exception {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {v}), pos);
        }
    }
}
