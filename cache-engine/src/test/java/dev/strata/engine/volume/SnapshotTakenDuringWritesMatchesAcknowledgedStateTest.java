package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 5, acceptance 2: a snapshot taken while a writer runs at full speed equals the reference
 * state at a point between what the writer had acknowledged when createSnapshot was called and
 * what it had started when the call returned. Every 4 KiB block carries the tag of the write that
 * filled it (SectorPattern), so the snapshot says which writes it holds; with one sequential
 * writer, crash consistency means it holds exactly a prefix of the writes: some K with every
 * block equal to its newest write with tag at most K.
 */
class SnapshotTakenDuringWritesMatchesAcknowledgedStateTest {
    private static final int BLOCKS = 2048; // 8 MiB

    @TempDir
    Path tmp;

    @Test
    void snapshotsUnderFullSpeedWritesArePrefixesCoveringEveryAcknowledgedWrite() throws Exception {
        snapshotsAreWritePrefixes(VolumeOptions.defaults().withObjectBytes(256 * 1024).withSealAfter(Duration.ofMillis(10))
                .withCheckpointEveryObjects(4), 6, 30);
    }

    /**
     * A write that does not fit the open batch goes in as two records, two batches and two map
     * updates; a snapshot cut between them held half a write that was never acknowledged. With the
     * smallest objects (64 KiB) most writes split, and snapshots come every millisecond.
     */
    @Test
    void aWriteSplitAcrossTwoBatchesIsInASnapshotWhollyOrNotAtAll() throws Exception {
        snapshotsAreWritePrefixes(VolumeOptions.defaults().withObjectBytes(64 * 1024).withSealAfter(Duration.ofMillis(10))
                .withCheckpointEveryObjects(16), 40, 1);
    }

    private void snapshotsAreWritePrefixes(VolumeOptions opts, int snapshots, int pauseMillis) throws Exception {
        StrataEngine engine = new StrataEngine(new LocalDirectoryObjectStore(tmp.resolve("bucket")), tmp.resolve("node"), "n1");
        engine.createVolume("v", (long) BLOCKS * 4096);
        // history[b]: tags written to block b, in order (tag = write number, from 1; 0 = a trim).
        List<List<long[]>> history = new ArrayList<>();
        for (int b = 0; b < BLOCKS; b++) {
            history.add(new ArrayList<>());
        }
        AtomicLong acknowledged = new AtomicLong();
        AtomicLong started = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        long[][] windows = new long[snapshots][2];
        try (LogStructuredVolume v = engine.openForWrite("v", opts, false)) {
            Thread writer = Thread.ofPlatform().start(() -> {
                Random r = new Random(7);
                ByteBuffer buf = ByteBuffer.allocate(4096 * 4);
                try {
                    for (long tag = 1; !stop.get(); tag++) {
                        int n = 1 + r.nextInt(4);
                        int b = r.nextInt(BLOCKS - n + 1);
                        boolean trim = r.nextInt(20) == 0;
                        synchronized (history) {
                            for (int i = 0; i < n; i++) {
                                history.get(b + i).add(new long[] {tag, trim ? 0 : tag});
                            }
                        }
                        started.set(tag);
                        if (trim) {
                            v.trim((long) b * 4096, n * 4096L);
                        } else {
                            buf.clear().limit(n * 4096);
                            for (int i = 0; i < n * 8; i++) {
                                SectorPattern.fill(buf, tag, (long) b * 8 + i);
                            }
                            buf.flip();
                            v.write((long) b * 4096, buf, false);
                        }
                        acknowledged.set(tag);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            for (int s = 0; s < snapshots; s++) {
                Thread.sleep(pauseMillis);
                windows[s][0] = acknowledged.get();
                v.createSnapshot("s" + s);
                windows[s][1] = started.get();
            }
            stop.set(true);
            writer.join();
        }
        assertTrue(windows[snapshots - 1][0] > 0, "the writer was running");
        for (int s = 0; s < snapshots; s++) {
            try (SnapshotView view = engine.openSnapshot("v", "s" + s)) {
                checkPrefix(view, history, windows[s][0], windows[s][1]);
            }
        }
    }

    /** The snapshot holds exactly the writes with tag ≤ K, for one K in [acknowledged, started]. */
    private static void checkPrefix(SnapshotView view, List<List<long[]>> history, long acknowledged, long started)
            throws Exception {
        ByteBuffer all = ByteBuffer.allocate(BLOCKS * 4096);
        view.read(0, all);
        long[] got = new long[BLOCKS * 8];
        long lowest = acknowledged; // K is at least this
        long highest = started;     // and at most this
        for (int lba = 0; lba < got.length; lba++) {
            got[lba] = SectorPattern.decode(all, lba * 512, lba);
            if (got[lba] == SectorPattern.GARBAGE) {
                fail(view.name() + ": sector " + lba + " is neither zeros nor a written pattern");
            }
        }
        for (int b = 0; b < BLOCKS; b++) {
            for (int s = 1; s < 8; s++) {
                assertEquals(got[b * 8], got[b * 8 + s], view.name() + ": block " + b + " is torn");
            }
            // Each block narrows K. It shows the content of the newest operation on it with tag ≤ K:
            // a write's tag is unique, so it pins K to [that write, the next operation on b); zeros
            // (a trim or no write yet) only bound K from above, by the operation after the newest
            // matching one.
            List<long[]> h = history.get(b);
            long shown = got[b * 8];
            int idx = -1;
            for (int i = h.size() - 1; i >= 0; i--) {
                if (h.get(i)[1] == shown && h.get(i)[0] <= started) {
                    idx = i;
                    break;
                }
            }
            if (idx < 0 && shown != 0) {
                fail(view.name() + ": block " + b + " shows tag " + shown + " that no write up to " + started + " wrote");
            }
            if (shown != 0) {
                lowest = Math.max(lowest, h.get(idx)[0]);
            }
            long next = idx + 1 < h.size() ? h.get(idx + 1)[0] : Long.MAX_VALUE;
            highest = Math.min(highest, next - 1);
        }
        assertTrue(lowest <= highest, view.name() + ": no single point of the write order explains the snapshot"
                + " (acknowledged " + acknowledged + ", started " + started + ", needs K in [" + lowest + ", " + highest + "])");
    }
}
