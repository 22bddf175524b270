package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Read-your-writes under concurrency: while one thread appends a log of small writes through
 * the coalescer (clusters filling, being written out and dropped all the time, the sealer
 * writing out old pending bytes, FLUSH now and then), readers read ranges of what has been
 * completed so far and must always find every completed write — including when a cluster is
 * dropped between their map lookup and their overlay (the generation retry, docs/coalescer.md).
 */
class ConcurrentReadsSeeEveryCompletedCoalescedWriteTest {
    @TempDir
    Path tmp;

    @Test
    void readersNeverMissACompletedWrite() throws Exception {
        StrataEngine engine = new StrataEngine(new LocalDirectoryObjectStore(tmp.resolve("bucket")), tmp.resolve("node"), "n");
        long sectors = 64 * 1024; // 32 MiB
        engine.createVolume("log", sectors * SectorPattern.SECTOR);
        VolumeOptions options = VolumeOptions.defaults().withCoalescer(8192).withCoalescerStreams(2)
                .withSealAfter(Duration.ofMillis(20)).withObjectBytes(256 * 1024);
        LogStructuredVolume v = engine.openForWrite("log", options, false);
        AtomicLong completed = new AtomicLong();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        AtomicLong reads = new AtomicLong();
        Thread[] readers = new Thread[2];
        for (int t = 0; t < readers.length; t++) {
            int id = t;
            readers[t] = Thread.ofPlatform().start(() -> {
                SplittableRandom r = new SplittableRandom(id);
                ByteBuffer buf = ByteBuffer.allocate(64 * SectorPattern.SECTOR);
                while (completed.get() < sectors && errors.isEmpty()) {
                    long done = Math.min(completed.get(), sectors);
                    if (done == 0) {
                        Thread.onSpinWait();
                        continue;
                    }
                    int n = (int) Math.min(1 + r.nextInt(64), done);
                    long lba = Math.max(0, done - n - (r.nextBoolean() ? 0 : r.nextLong(done)));
                    buf.clear().limit(n * SectorPattern.SECTOR);
                    try {
                        v.read(lba * SectorPattern.SECTOR, buf);
                    } catch (Exception e) {
                        errors.add(e.toString());
                        return;
                    }
                    for (int i = 0; i < n; i++) {
                        long got = SectorPattern.decode(buf, i * SectorPattern.SECTOR, lba + i);
                        if (got != lba + i + 1) {
                            errors.add("sector " + (lba + i) + " completed before the read began: expected tag "
                                    + (lba + i + 1) + ", got " + got);
                            return;
                        }
                    }
                    reads.incrementAndGet();
                }
            });
        }
        SplittableRandom r = new SplittableRandom(42);
        ByteBuffer w = ByteBuffer.allocateDirect(8 * SectorPattern.SECTOR);
        long lba = 0;
        while (lba < sectors && errors.isEmpty()) {
            int n = (int) Math.min(1 + r.nextInt(r.nextInt(20) == 0 ? 8 : 2), sectors - lba);
            w.clear();
            for (int i = 0; i < n; i++) {
                SectorPattern.fill(w, lba + i + 1, lba + i);
            }
            w.flip();
            v.write(lba * SectorPattern.SECTOR, w, false);
            lba += n;
            completed.set(lba);
            if (r.nextInt(500) == 0) {
                v.flush();
            }
        }
        completed.set(Long.MAX_VALUE);
        for (Thread t : readers) {
            t.join();
        }
        assertTrue(errors.isEmpty(), String.valueOf(errors.peek()));
        assertTrue(reads.get() > 100, "readers ran: " + reads.get());
        assertTrue(v.coalescerStats().clustersFilled.sum() > 100, v.coalescerStats().toString());
        v.close();
        engine.close();
        assertEquals(sectors, lba);
    }
}
