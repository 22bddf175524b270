package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.strata.engine.journal.JournalOptions;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The large-write bypass (docs/write-paths.md, "Large-write bypass"): a large aligned write's
 * data skips the journal and lives only in its batch until that is uploaded. Readable at once;
 * durable once a FLUSH or FUA returned (they wait for the upload); after a crash without one,
 * every sector reads the old or the new contents of the writes that touched it, never garbage.
 */
class LargeWriteBypassTest {
    private static final int SIZE = 16 << 20;
    private static final int SECTORS = SIZE / SectorPattern.SECTOR;
    private static final int BYPASS = 64 << 10;
    /** Nothing is sealed by age: uploads happen only when a batch fills, or on FLUSH/FUA/snapshot. */
    private static final VolumeOptions OPTS = VolumeOptions.defaults().withObjectBytes(1 << 20)
            .withSealAfter(Duration.ofMinutes(10)).withLargeWriteBypass(BYPASS);

    @TempDir
    Path tmp;
    private long nextTag = 1L << 20;
    private ObjectStore store;

    private StrataEngine engine(String node) throws Exception {
        if (store == null) {
            store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        }
        return new StrataEngine(store, tmp.resolve(node), node);
    }

    /** Writes [lba, lba + sectors) with a fresh tag per sector into the volume and {@code image}; returns the tag base. */
    private long write(Volume v, long[] image, long lba, int sectors, boolean fua) throws Exception {
        long tag = nextTag;
        nextTag += 1L << 20;
        ByteBuffer b = ByteBuffer.allocate(sectors * SectorPattern.SECTOR);
        for (int i = 0; i < sectors; i++) {
            SectorPattern.fill(b, tag + i, lba + i);
            if (image != null) {
                image[(int) lba + i] = tag + i;
            }
        }
        v.write(lba * SectorPattern.SECTOR, b.flip(), fua);
        return tag;
    }

    private static long[] readAll(Volume v) throws Exception {
        ByteBuffer buf = ByteBuffer.allocate(SIZE);
        v.read(0, buf);
        long[] tags = new long[SECTORS];
        for (int i = 0; i < SECTORS; i++) {
            tags[i] = SectorPattern.decode(buf, i * SectorPattern.SECTOR, i);
        }
        return tags;
    }

    private static void assertImage(long[] want, Volume v, String what) throws Exception {
        long[] got = readAll(v);
        if (!VolumeModel.same(want, got)) {
            fail(what + ":" + VolumeModel.describeDifference(want, got));
        }
    }

    @Test
    void aBypassedWriteIsReadableAtOnceAndOnlyLargeAlignedWritesBypass() throws Exception {
        StrataEngine engine = engine("n1");
        engine.createVolume("v", SIZE);
        long[] image = new long[SECTORS];
        try (LogStructuredVolume v = engine.openForWrite("v", OPTS, false)) {
            write(v, image, 0, 512, false); // 256 KiB, aligned: bypassed
            assertEquals(1, v.stats().bypassedWrites.sum());
            assertImage(image, v, "read right after the bypassed write");
            assertEquals(0, v.stats().objectsUploaded.sum(), "nothing uploaded yet: the data is only in the batch");
            write(v, image, 1024 + 1, 512, false);      // not 4 KiB-aligned in offset
            write(v, image, 4096, 512 + 1, false);      // not a multiple of 4 KiB
            write(v, image, 8192, BYPASS / 512 - 8, false); // shorter than the threshold
            assertEquals(1, v.stats().bypassedWrites.sum());
            write(v, image, 16384, BYPASS / 512, false); // exactly the threshold
            assertEquals(2, v.stats().bypassedWrites.sum());
            assertEquals((256 << 10) + BYPASS, v.stats().bypassedBytes.sum());
            v.flush();
            long journalBytes = v.journalStats().bytesWritten();
            assertTrue(journalBytes < 3 * (256 << 10), "the bypassed 320 KiB never went to the journal: " + journalBytes);
            assertTrue(v.stats().objectsUploaded.sum() >= 1, "the flush uploaded the bypassed data");
            assertEquals(1, v.stats().flushesUploadingBypassed.sum());
            v.flush(); // nothing new bypassed: no upload to wait for
            assertEquals(1, v.stats().flushesUploadingBypassed.sum());
            assertImage(image, v, "after flush");
        }
        try (LogStructuredVolume ro = engine("n2").openReadOnly("v", OPTS)) {
            assertImage(image, ro, "bucket alone");
        }
    }

    @Test
    void aBypassedWriteSurvivesAPowerCutAfterAFlushOrWithFua() throws Exception {
        StrataEngine engine = engine("n1");
        engine.createVolume("v", SIZE);
        long[] image = new long[SECTORS];
        LogStructuredVolume v = engine.openForWrite("v", OPTS, false);
        write(v, image, 0, 64, false);       // small, journaled
        write(v, image, 0, 256, false);      // bypassed, over it
        write(v, image, 512, 8, false);      // small, journaled
        v.flush();
        v.crashForTest(true);
        v = engine.openForWrite("v", OPTS, false);
        assertImage(image, v, "flushed, then power cut");
        assertEquals(0, v.lostBypassRecords());

        write(v, image, 2048, 1024, true);   // bypassed with FUA
        v.crashForTest(true);
        v = engine.openForWrite("v", OPTS, false);
        assertImage(image, v, "FUA bypassed write, then power cut");

        write(v, image, 4096, 256, false);   // bypassed, not flushed...
        write(v, image, 8000, 1, true);      // ...then a small FUA write: everything before it is durable
        v.crashForTest(true);
        v = engine.openForWrite("v", OPTS, false);
        assertImage(image, v, "bypassed write followed by a small FUA write, then power cut");
        v.close();
    }

    @Test
    void anUnflushedBypassedWriteWhoseObjectWasNotUploadedReadsOldAfterACrash() throws Exception {
        StrataEngine engine = engine("n1");
        engine.createVolume("v", SIZE);
        // The journal writes its entries within 2 ms: the BYPASS record is surely in the file at the crash.
        VolumeOptions opts = OPTS.withJournal(JournalOptions.builder().syncInterval(Duration.ofMillis(2)).build());
        long[] image = new long[SECTORS];
        LogStructuredVolume v = engine.openForWrite("v", opts, false);
        write(v, image, 0, 512, false);
        v.flush();
        long[] old = image.clone();
        write(v, null, 0, 256, false);       // bypassed, never flushed: lost with its batch
        write(v, image, 1024, 8, false);     // small and journaled after it: replayed
        System.arraycopy(image, 1024, old, 1024, 8);
        Thread.sleep(200);
        v.crashForTest(false);
        v = engine.openForWrite("v", opts, false);
        assertEquals(1, v.lostBypassRecords(), "replay found the BYPASS record without its object");
        assertImage(old, v, "the lost write's range keeps its old contents; the later small write is there");
        // The object holding the lost record (no extent) chains like any other: the volume goes on.
        write(v, old, 2048, 512, false);
        write(v, old, 3000, 3, false);
        v.close();
        try (LogStructuredVolume ro = engine("n2").openReadOnly("v", opts)) {
            assertImage(old, ro, "bucket alone after the replay that lost a bypassed write");
        }
        v = engine.openForWrite("v", opts, false);
        assertImage(old, v, "reopened");
        v.close();
    }

    @Test
    void anUnflushedBypassedWriteWhoseObjectWasUploadedReadsNewAfterACrash() throws Exception {
        StrataEngine engine = engine("n1");
        engine.createVolume("v", SIZE);
        long[] image = new long[SECTORS];
        LogStructuredVolume v = engine.openForWrite("v", OPTS, false);
        write(v, image, 0, 2048, false);     // 1 MiB: fills the batch...
        write(v, image, 4096, 256, false);   // ...which the next bypassed write seals and the uploader sends
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (v.stats().objectsUploaded.sum() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(v.stats().objectsUploaded.sum() >= 1);
        long[] withFirst = new long[SECTORS];
        System.arraycopy(image, 0, withFirst, 0, 2048);
        v.crashForTest(true);
        v = engine.openForWrite("v", OPTS, false);
        assertImage(withFirst, v, "the uploaded bypassed write is there, the other one is lost");
        v.close();
    }

    /**
     * Random bursts of bypassed, small, overlapping writes and trims with random crashes (process
     * or power) at random moments, some flushes, background sealing and uploads racing them: after
     * every crash each sector reads a value it held at the last completed flush or one written
     * since (old or new, never garbage), everything up to that flush is there, and a second open
     * reads the same.
     */
    @Test
    void afterRandomCrashesEverySectorReadsOldOrNewNeverGarbage() throws Exception {
        StrataEngine engine = engine("n1");
        engine.createVolume("v", SIZE);
        Random r = new Random(44);
        VolumeOptions opts = VolumeOptions.defaults().withObjectBytes(256 << 10).withSealAfter(Duration.ofMillis(15))
                .withMaxPendingBatches(3).withLargeWriteBypass(16 << 10)
                .withJournal(JournalOptions.builder().syncInterval(Duration.ofMillis(r.nextBoolean() ? 2 : 1000)).build());
        int region = 4096; // sectors: 2 MiB, so writes overlap
        long[] durable = new long[SECTORS];
        List<Set<Long>> since = new ArrayList<>();
        for (int i = 0; i < region; i++) {
            since.add(new HashSet<>());
        }
        LogStructuredVolume v = engine.openForWrite("v", opts, false);
        long lost = 0;
        for (int round = 0; round < 30; round++) {
            long[] current = readAll(v);
            for (int op = 0, n = 5 + r.nextInt(40); op < n; op++) {
                int k = r.nextInt(10);
                if (k < 5) { // bypassed: 16 KiB - 512 KiB, aligned
                    int sectors = 8 * (4 + r.nextInt(128));
                    long lba = 8L * r.nextInt((region - sectors) / 8);
                    long tag = write(v, current, lba, sectors, r.nextInt(15) == 0);
                    for (int i = 0; i < sectors; i++) {
                        since.get((int) lba + i).add(tag + i);
                    }
                } else if (k < 8) { // small, unaligned: journaled
                    int sectors = 1 + r.nextInt(24);
                    long lba = r.nextInt(region - sectors);
                    long tag = write(v, current, lba, sectors, r.nextInt(15) == 0);
                    for (int i = 0; i < sectors; i++) {
                        since.get((int) lba + i).add(tag + i);
                    }
                } else if (k < 9) {
                    int sectors = 1 + r.nextInt(64);
                    long lba = r.nextInt(region - sectors);
                    v.trim(lba * 512, sectors * 512L);
                    for (int i = 0; i < sectors; i++) {
                        since.get((int) lba + i).add(0L);
                    }
                } else {
                    v.flush();
                    durable = readAll(v);
                    since.forEach(Set::clear);
                }
                if (r.nextInt(4) == 0) {
                    Thread.sleep(r.nextInt(20)); // let sealing, uploads and the journal writer move
                }
            }
            v.crashForTest(r.nextBoolean());
            v = engine.openForWrite("v", opts, false);
            lost += v.lostBypassRecords();
            long[] got = readAll(v);
            for (int i = 0; i < SECTORS; i++) {
                boolean ok = got[i] == durable[i] || (i < region && since.get(i).contains(got[i]));
                if (!ok) {
                    fail("round " + round + ": sector " + i + " reads tag " + Long.toHexString(got[i]) + ", neither its value at"
                            + " the last flush (" + Long.toHexString(durable[i]) + ") nor one written since");
                }
                assertNotEquals(SectorPattern.GARBAGE, got[i]);
            }
            // the recovered state is durable now: the next round starts from it
            durable = got;
            since.forEach(Set::clear);
        }
        v.close();
        assertTrue(lost > 0, "some crash lost an unflushed bypassed write: the replay path ran");
        try (LogStructuredVolume again = engine.openForWrite("v", opts, false)) {
            assertEquals(0, again.lostBypassRecords());
        }
    }

    @Test
    void aSnapshotIncludesBypassedWritesAndTheCoalescerStepsAside() throws Exception {
        StrataEngine engine = engine("n1");
        engine.createVolume("v", SIZE);
        long[] image = new long[SECTORS];
        VolumeOptions opts = OPTS.withCoalescer(16 << 10);
        LogStructuredVolume v = engine.openForWrite("v", opts, false);
        for (int i = 0; i < 6; i++) {
            write(v, image, 100 + i, 1, false); // a sequential stream: pending in a cluster
        }
        write(v, image, 96, 256, false);        // bypassed over the open cluster
        assertEquals(1, v.stats().bypassedWrites.sum());
        write(v, image, 96 + 256, 1, false);    // the stream goes on after it
        assertImage(image, v, "reads see the bypassed write over the coalesced bytes");
        v.createSnapshot("s");
        long[] atSnapshot = image.clone();
        write(v, image, 1024, 512, false);      // bypassed after the snapshot, never flushed
        v.crashForTest(true);
        try (SnapshotView s = engine.openSnapshot("v", "s")) {
            assertImage(atSnapshot, s, "the snapshot holds the bypassed write taken before it");
        }
        v = engine.openForWrite("v", opts, false);
        long[] got = readAll(v);
        for (int i = 0; i < SECTORS; i++) {
            assertTrue(got[i] == atSnapshot[i] || got[i] == image[i], "sector " + i + " old or new");
        }
        v.close();
    }
}
