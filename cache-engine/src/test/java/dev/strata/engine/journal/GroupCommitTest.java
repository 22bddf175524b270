package dev.strata.engine.journal;

import static dev.strata.engine.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.strata.engine.util.DirectIoMode;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GroupCommitTest {
    @TempDir
    Path dir;

    @Test
    void concurrentWaitersShareWritesAndFdatasyncs() throws Exception {
        int threads = 32;
        int perThread = 20;
        ConcurrentLinkedQueue<Rec> appended = new ConcurrentLinkedQueue<>();
        JournalStats stats;
        try (Journal j = Journal.open(dir, small(DirectIoMode.AUTO).maxSegments(256).build(), VOLUME, 1);
             ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                done.add(pool.submit(() -> {
                    Random rnd = new Random(id);
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        List<Rec> recs = append(j, randomRecord(rnd, 16));
                        appended.addAll(recs);
                        long seq = recs.getLast().seq();
                        j.awaitDurable(seq);
                        assertTrue(j.durableSeq() >= seq);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            stats = j.stats();
        }
        int waits = threads * perThread;
        System.out.println("group commit, " + waits + " append+awaitDurable from " + threads + " threads: " + stats);
        assertEquals(waits, stats.recordsAppended());
        assertTrue(stats.fsyncs() < waits, "waiters share fdatasyncs: " + stats);
        assertTrue(stats.entriesWritten() < waits, "waiters share entries: " + stats);
        List<Rec> expected = appended.stream().sorted(Comparator.comparingLong(Rec::seq)).toList();
        assertEquals(expected, replay(dir, 0).records());
    }

    @Test
    void periodicSyncForcesAppendedRecordsWithoutAnyFlush() throws Exception {
        try (Journal j = Journal.open(dir, small(DirectIoMode.OFF).syncInterval(Duration.ofMillis(50)).build(), VOLUME, 1)) {
            long seq = j.append(1, 0, 8, RecordKind.WRITE, ByteBuffer.allocate(4096));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (j.durableSeq() < seq && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(seq, j.durableSeq(), "the sync interval bounds how long a record stays un-forced");
            assertEquals(1, j.stats().fsyncs());
        }
    }

    @Test
    void appendsAreAcknowledgedFromMemoryWithoutWritingOrForcing() throws Exception {
        try (Journal j = Journal.open(dir, small(DirectIoMode.OFF).syncInterval(Duration.ofMinutes(5)).build(), VOLUME, 1)) {
            for (int i = 0; i < 50; i++) {
                j.append(1, i, 1, RecordKind.WRITE, ByteBuffer.allocate(512));
            }
            assertEquals(50, j.lastAppendedSeq());
            assertEquals(0, j.durableSeq());
            assertEquals(0, j.stats().fsyncs());
            j.flush();
            assertEquals(50, j.durableSeq());
            assertEquals(1, j.stats().entriesWritten());
            assertEquals(1, j.stats().fsyncs());
            j.flush(); // nothing new: no extra force
            assertEquals(1, j.stats().fsyncs());
        }
    }

    @Test
    void fullStagingBufferIsWrittenWhileAppendsContinueIntoTheOther() throws Exception {
        // 169 records fit an entry header: 1000 one-sector records need several entries without any flush.
        try (Journal j = Journal.open(dir, small(DirectIoMode.OFF).syncInterval(Duration.ofMinutes(5)).build(), VOLUME, 1)) {
            ByteBuffer sector = ByteBuffer.allocateDirect(512);
            for (int i = 0; i < 1000; i++) {
                j.append(1, i, 1, RecordKind.WRITE, sector);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (j.stats().entriesWritten() < 1000 / EntryHeader.MAX_RECORDS && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(j.stats().entriesWritten() >= 1000 / EntryHeader.MAX_RECORDS, j.stats().toString());
            j.flush();
        }
        assertEquals(1000, replay(dir, 0).records().size());
    }
}
