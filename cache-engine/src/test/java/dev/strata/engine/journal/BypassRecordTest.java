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
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The BYPASS record kind (large-write bypass, docs/journal.md "Entry format versions"): a
 * metadata-only record (LBA, sectors, no data) that entries carry from format version 2 on.
 * Hand-made journals with such records, then damage: replay returns exactly the records before
 * the damage, and an entry that names kind 4 under version 1 (or an unknown kind under version
 * 2) is refused like any bad header.
 */
class BypassRecordTest {
    @TempDir
    Path dir;
    @TempDir
    Path spare;

    private List<Rec> all;
    private List<EntryPos> entries;

    /** About a third BYPASS records among WRITE/TRIM/ZERO, flushed now and then so entries have varied mixes. */
    @BeforeEach
    void writeJournalWithBypassRecords() throws Exception {
        Random rnd = new Random(404);
        all = new ArrayList<>();
        try (Journal j = Journal.open(dir, small(), VOLUME, 1)) {
            for (int i = 0; i < 400; i++) {
                Rec r = rnd.nextInt(3) == 0
                        ? new Rec(0, 1 + rnd.nextInt(3), rnd.nextLong(1L << 30) & ~7L, 8 * (1 + rnd.nextInt(2048)), RecordKind.BYPASS, null)
                        : randomRecord(rnd, 24);
                all.addAll(append(j, r));
                if (rnd.nextInt(9) == 0) {
                    j.flush();
                }
            }
        }
        entries = layout(dir);
        assertTrue(segmentFiles(dir).size() >= 2, "several segments");
        assertEquals(all, replay(dir, 0).records());
    }

    @Test
    void bypassRecordsReplayInOrderWithoutDataAndOnlyTheirEntriesAreVersionTwo() throws Exception {
        List<Rec> replayed = replay(dir, 0).records();
        long bypass = replayed.stream().filter(r -> r.kind() == RecordKind.BYPASS).count();
        assertTrue(bypass > 80, "bypass records: " + bypass);
        for (Rec r : replayed) {
            if (r.kind() == RecordKind.BYPASS) {
                assertNull(r.data(), "a BYPASS record carries no data: " + r);
            }
        }
        int v1 = 0;
        int v2 = 0;
        for (EntryPos e : entries) {
            boolean hasBypass = all.stream().anyMatch(r -> r.seq() >= e.firstSeq() && r.seq() <= e.lastSeq()
                    && r.kind() == RecordKind.BYPASS);
            short version = header(e).getShort(4);
            assertEquals(hasBypass ? 2 : 1, version, "entry " + e);
            if (hasBypass) {
                v2++;
            } else {
                v1++;
            }
        }
        assertTrue(v1 > 0 && v2 > 0, "both versions written: v1 " + v1 + ", v2 " + v2);
        // Replay from a later point delivers exactly the later records, BYPASS ones included.
        long from = all.get(all.size() / 2).seq();
        assertEquals(all.stream().filter(r -> r.seq() > from).toList(), replay(dir, from).records());
    }

    @Test
    void appendRefusesDataOnABypassRecord() throws Exception {
        try (Journal j = Journal.open(spare.resolve("j"), small(), VOLUME, 1)) {
            assertThrows(IllegalArgumentException.class,
                    () -> j.append(1, 0, 8, RecordKind.BYPASS, ByteBuffer.allocate(4096)));
            assertThrows(IllegalArgumentException.class, () -> j.append(1, 0, 0, RecordKind.BYPASS, null));
        }
    }

    @Test
    void truncatingAtEveryEntryOfAVersionTwoEntryKeepsExactlyTheEntriesBefore() throws Exception {
        Random rnd = new Random(7);
        int trials = 0;
        for (EntryPos e : entries) {
            if (header(e).getShort(4) != 2 || rnd.nextInt(3) != 0) {
                continue;
            }
            Path seg = e.segment();
            Path backup = spare.resolve("backup");
            Files.copy(seg, backup, StandardCopyOption.REPLACE_EXISTING);
            // inside its header block, inside its data, or right at its start
            long[] cuts = {e.offset(), e.offset() + 1 + rnd.nextInt(JournalFormat.BLOCK - 1), e.end() - 1};
            for (long cut : cuts) {
                try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
                    ch.truncate(cut);
                }
                Replayed r = replay(dir, 0);
                assertEquals(prefix(all, e.firstSeq() - 1), r.records(), "cut at " + cut + " in " + e);
                assertEquals(e.firstSeq() - 1, r.result().lastSeq());
                Files.copy(backup, seg, StandardCopyOption.REPLACE_EXISTING);
                trials++;
            }
        }
        assertTrue(trials >= 9, "trials: " + trials);
    }

    @Test
    void aFlippedBitInABypassRecordStopsReplayRightBeforeItsEntry() throws Exception {
        int trials = 0;
        for (EntryPos e : entries) {
            for (int i = 0; i < e.count() && trials < 60; i++) {
                Rec r = all.get((int) (e.firstSeq() + i - 1));
                if (r.kind() != RecordKind.BYPASS) {
                    continue;
                }
                // the LBA, the sector count, then the kind byte of that record
                for (int field : new int[] {8 + 7, 16 + 3, 20}) {
                    long pos = e.offset() + EntryHeader.RECORDS_OFFSET + (long) i * EntryHeader.RECORD_BYTES + field;
                    byte old = readByte(e.segment(), pos);
                    writeByte(e.segment(), pos, (byte) (old ^ 0x10));
                    Replayed rep = replay(dir, 0);
                    assertEquals(prefix(all, e.firstSeq() - 1), rep.records(), "flip at " + pos + " in " + e);
                    assertTrue(rep.result().stopReason().suspicious(), rep.result().describe());
                    writeByte(e.segment(), pos, old);
                    trials++;
                }
            }
        }
        assertTrue(trials >= 30, "trials: " + trials);
        assertEquals(all, replay(dir, 0).records());
    }

    @Test
    void kindFourInAVersionOneEntryIsABadHeaderEvenWithAGoodCrc() throws Exception {
        EntryPos e = entries.stream().filter(x -> x.index() == entries.getFirst().index()).filter(x -> {
            try {
                return header(x).getShort(4) == 2;
            } catch (Exception ex) {
                throw new AssertionError(ex);
            }
        }).skip(1).findFirst().orElseThrow();
        ByteBuffer h = header(e);
        h.putShort(4, (short) 1);
        rewriteWithCrc(e, h);
        Replayed r = replay(dir, 0);
        assertEquals(prefix(all, e.firstSeq() - 1), r.records());
        assertEquals(StopReason.BAD_HEADER, r.result().stopReason(), r.result().describe());
        assertEquals(e.offset(), r.result().stopOffset());
    }

    @Test
    void anUnknownKindInAVersionTwoEntryIsABadHeaderEvenWithAGoodCrc() throws Exception {
        EntryPos e = entries.get(entries.size() / 2);
        ByteBuffer h = header(e);
        h.putShort(4, (short) 2);
        h.put(EntryHeader.RECORDS_OFFSET + 20, (byte) 5);
        rewriteWithCrc(e, h);
        Replayed r = replay(dir, 0);
        assertEquals(prefix(all, e.firstSeq() - 1), r.records());
        assertEquals(StopReason.BAD_HEADER, r.result().stopReason(), r.result().describe());
        // and a version 3 entry is refused as a version this code does not know
        h.put(EntryHeader.RECORDS_OFFSET + 20, (byte) 1);
        h.putShort(4, (short) 3);
        rewriteWithCrc(e, h);
        assertEquals(StopReason.BAD_VERSION, replay(dir, 0).result().stopReason());
    }

    // ------------------------------------------------------------------ helpers

    private static ByteBuffer header(EntryPos e) throws Exception {
        ByteBuffer h = ByteBuffer.allocate(JournalFormat.BLOCK);
        try (FileChannel ch = FileChannel.open(e.segment(), StandardOpenOption.READ)) {
            ch.read(h, e.offset());
        }
        return h.clear();
    }

    /** Writes header block {@code h} over entry {@code e} with a CRC that matches (docs/journal.md: bytes 0..31, 36..4095, data). */
    private static void rewriteWithCrc(EntryPos e, ByteBuffer h) throws Exception {
        ByteBuffer data = ByteBuffer.allocate(e.dataBytes());
        try (FileChannel ch = FileChannel.open(e.segment(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.read(data, e.offset() + JournalFormat.BLOCK);
            CRC32C crc = new CRC32C();
            crc.update(h.slice(0, 32));
            crc.update(h.slice(36, JournalFormat.BLOCK - 36));
            crc.update(data.flip());
            h.putInt(32, (int) crc.getValue());
            ch.write(h.clear(), e.offset());
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
