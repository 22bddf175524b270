package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.strata.engine.gc.GcOptions;
import dev.strata.engine.gc.GcReport;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writers, readers and garbage collection at once on one volume: every read returns a version
 * of its block at least as new as the last write acknowledged before the read started, and never
 * a torn or foreign block, while GC keeps moving blocks and deleting the objects they came from.
 */
class ReadsAndWritesStayCorrectWhileGcMovesTheirBlocksTest {
    private static final int BLOCK = 4096;
    private static final int BLOCKS = 1024; // 4 MiB

    @TempDir
    Path tmp;

    private static void fill(ByteBuffer b, long block, long version) {
        b.clear();
        for (int i = 0; i < BLOCK; i += 16) {
            b.putLong(block);
            b.putLong(version);
        }
        b.flip();
    }

    @Test
    void concurrentIoSeesOnlyAcknowledgedOrNewerVersions() throws Exception {
        VolumeOptions opts = VolumeOptions.defaults().withObjectBytes(64 * 1024).withSealAfter(Duration.ofMillis(20))
                .withCheckpointEveryObjects(8)
                .withGc(GcOptions.defaults().withEnabled(false).withLiveThreshold(0.9).withDeleteGrace(Duration.ZERO));
        StrataEngine engine = new StrataEngine(new LocalDirectoryObjectStore(tmp.resolve("bucket")), tmp.resolve("node"), "n1");
        engine.createVolume("v", (long) BLOCKS * BLOCK);
        AtomicLongArray acked = new AtomicLongArray(BLOCKS);
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        long[] gcTotals = new long[2];
        try (LogStructuredVolume v = engine.openForWrite("v", opts, false)) {
            Thread[] writers = new Thread[2];
            for (int w = 0; w < writers.length; w++) {
                int id = w;
                writers[w] = Thread.ofPlatform().start(() -> {
                    SplittableRandom r = new SplittableRandom(id);
                    ByteBuffer b = ByteBuffer.allocateDirect(BLOCK);
                    long version = 1;
                    while (!stop.get()) {
                        // Each writer owns the blocks of its parity: versions per block only grow.
                        int block = r.nextInt(BLOCKS / 2) * 2 + id;
                        fill(b, block, version);
                        try {
                            v.write((long) block * BLOCK, b, false);
                        } catch (Exception e) {
                            errors.add("write of block " + block + ": " + e);
                            return;
                        }
                        acked.set(block, version++);
                    }
                });
            }
            Thread reader = Thread.ofPlatform().start(() -> {
                SplittableRandom r = new SplittableRandom(99);
                ByteBuffer b = ByteBuffer.allocate(BLOCK);
                while (!stop.get()) {
                    int block = r.nextInt(BLOCKS);
                    long atLeast = acked.get(block);
                    b.clear();
                    try {
                        v.read((long) block * BLOCK, b);
                    } catch (Exception e) {
                        errors.add("read of block " + block + ": " + e);
                        return;
                    }
                    long gotBlock = b.getLong(0);
                    long gotVersion = b.getLong(8);
                    for (int i = 0; i < BLOCK; i += 16) {
                        if (b.getLong(i) != gotBlock || b.getLong(i + 8) != gotVersion) {
                            errors.add("block " + block + " is torn at byte " + i);
                            return;
                        }
                    }
                    if (atLeast > 0 && (gotBlock != block || gotVersion < atLeast)) {
                        errors.add("block " + block + ": read block " + gotBlock + " version " + gotVersion
                                + ", acknowledged version " + atLeast);
                        return;
                    }
                }
            });
            Thread collector = Thread.ofPlatform().start(() -> {
                int passes = 0;
                while (!stop.get()) {
                    try {
                        GcReport rep = v.collectGarbage();
                        gcTotals[0] += rep.objectsCompacted();
                        gcTotals[1] += rep.objectsDeleted();
                        if (++passes % 4 == 0) {
                            v.checkpoint();
                        }
                        Thread.sleep(5);
                    } catch (Exception e) {
                        errors.add("gc: " + e);
                        return;
                    }
                }
            });
            long end = System.nanoTime() + Duration.ofSeconds(6).toNanos();
            while (System.nanoTime() < end && errors.isEmpty()) {
                Thread.sleep(50);
            }
            stop.set(true);
            for (Thread t : writers) {
                t.join();
            }
            reader.join();
            collector.join();
            if (!errors.isEmpty()) {
                fail(String.join("\n", errors));
            }
            assertTrue(gcTotals[0] > 0, "GC compacted nothing: the test proved nothing");
            assertTrue(gcTotals[1] > 0, "GC deleted nothing: the test proved nothing");
            // Every block reads its last acknowledged version now, and again from the bucket after close.
            checkAll(v, acked);
        }
        try (LogStructuredVolume ro = new StrataEngine(new LocalDirectoryObjectStore(tmp.resolve("bucket")), tmp.resolve("other"), "n2")
                .openReadOnly("v", opts)) {
            checkAll(ro, acked);
        }
    }

    private static void checkAll(Volume v, AtomicLongArray acked) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(BLOCK);
        for (int block = 0; block < BLOCKS; block++) {
            b.clear();
            v.read((long) block * BLOCK, b);
            long want = acked.get(block);
            assertEquals(want == 0 ? 0 : block, b.getLong(0), "block " + block);
            assertEquals(want, b.getLong(8), "block " + block + " version");
        }
    }
}
