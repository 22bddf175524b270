package dev.strata.engine.coalescer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Directed cases of docs/coalescer.md, each named by the property it shows; a fake sink records write-outs. */
class SequentialCoalescerPropertiesTest {
    private static final int C = 64 * 1024;

    /** One write-out or pass-through: offset and length in bytes. */
    private record Out(long offset, int length) {}

    private final List<Out> outs = new ArrayList<>();
    private final SequentialCoalescer co = new SequentialCoalescer(C, 4, (off, data) -> {
        outs.add(new Out(off, data.remaining()));
        return outs.size();
    });

    private void write(long offset, int length, boolean fua) throws IOException {
        co.write(offset, ByteBuffer.allocateDirect(length), fua);
    }

    @Test
    void aLogFlushingEvery16WritesOf512BytesBecomesOneRecordPerFlush() throws IOException {
        for (int i = 0; i < 64; i++) {
            write(i * 512L, 512, false);
            if ((i + 1) % 16 == 0) {
                co.writeOutPending();
            }
        }
        assertEquals(List.of(new Out(0, 8192), new Out(8192, 8192), new Out(16384, 8192), new Out(24576, 8192)), outs);
        assertEquals(1, co.openClusters(), "the cluster stays open after a flush");
    }

    @Test
    void aFlushWritesOutOnlyTheBytesNotYetWrittenOut() throws IOException {
        write(0, 512, true);
        write(512, 512, true);
        write(1024, 1024, false);
        co.writeOutPending();
        co.writeOutPending(); // nothing pending: nothing written
        assertEquals(List.of(new Out(0, 512), new Out(512, 512), new Out(1024, 1024)), outs);
    }

    @Test
    void aFullClusterIsWrittenOutAndFinished() throws IOException {
        for (int i = 0; i < C / 4096; i++) {
            write(i * 4096L, 4096, false);
        }
        assertEquals(List.of(new Out(0, C)), outs);
        assertEquals(0, co.openClusters());
        assertEquals(1, co.stats().clustersFilled.sum());
    }

    @Test
    void aWriteStraddlingAClusterBoundaryFillsOneClusterAndOpensTheNext() throws IOException {
        write(0, C - 512, false);
        write(C - 512, 1024, false);
        assertEquals(List.of(new Out(0, C)), outs, "the first cluster is full");
        assertEquals(1, co.openClusters(), "the rest opened the next cluster");
        co.writeOutPending();
        assertEquals(new Out(C, 512), outs.get(1));
    }

    @Test
    void aWriteNeitherSequentialNorNewPassesThroughAfterThePendingBytesAndDropsTheClusterItOverlaps() throws IOException {
        write(0, 4096, false);
        write(1024, 512, false); // an overwrite inside the open cluster
        assertEquals(List.of(new Out(0, 4096), new Out(1024, 512)), outs);
        assertEquals(0, co.openClusters(), "the cluster would hold stale bytes: dropped");
        assertEquals(1, co.stats().clustersInvalidated.sum());
    }

    @Test
    void aPassThroughThatDoesNotOverlapKeepsTheClusterOpen() throws IOException {
        write(0, 4096, false);
        write(8192, 512, false); // a gap in the same cluster: not sequential, not overlapping
        write(4096, 512, false); // the stream goes on
        co.writeOutPending();
        assertEquals(List.of(new Out(0, 4096), new Out(8192, 512), new Out(4096, 512)), outs);
    }

    @Test
    void aTrimOverlappingAClusterWritesItOutAndDropsIt() throws IOException {
        write(0, 4096, false);
        co.beforeOtherWrite(2048, 1 << 20);
        assertEquals(List.of(new Out(0, 4096)), outs);
        assertEquals(0, co.openClusters());
    }

    @Test
    void interleavedStreamsWriteOutInWriteOrder() throws IOException {
        long a = 0;
        long b = 10L * C;
        write(a, 512, false);
        write(a + 512, 512, false);
        write(b, 512, false); // A's pending bytes go out first
        write(a + 1024, 512, false); // then B's
        co.writeOutPending();
        assertEquals(List.of(new Out(a, 1024), new Out(b, 512), new Out(a + 1024, 512)), outs);
        assertEquals(2, co.openClusters(), "both streams stay open");
    }

    @Test
    void aNewStreamBeyondTheLimitEvictsTheLeastRecentlyWrittenCluster() throws IOException {
        for (int s = 0; s < 5; s++) {
            write(s * 4L * C, 512, false);
        }
        assertEquals(4, co.openClusters());
        assertEquals(1, co.stats().clustersEvicted.sum());
        // Stream 0 was evicted: its next write opens a new cluster, it does not pass through.
        write(512, 512, false);
        assertEquals(0, co.stats().writesPassedThrough.sum());
    }

    @Test
    void readsSeeCoalescedBytesAtTheReadersIndex() throws IOException {
        ByteBuffer w = ByteBuffer.allocate(1024);
        for (int i = 0; i < 1024; i++) {
            w.put(i, (byte) (i % 251 + 1));
        }
        co.write(C + 512, w, false);
        ByteBuffer dst = ByteBuffer.allocate(4096 + 100);
        assertTrue(co.overlay(C, dst, 100, 4096, co.generation()));
        for (int i = 0; i < 4096; i++) {
            byte want = i >= 512 && i < 1536 ? (byte) ((i - 512) % 251 + 1) : 0;
            assertEquals(want, dst.get(100 + i), "byte " + i);
        }
    }

    @Test
    void aDropSinceTheReaderStartedAsksForARetry() throws IOException {
        write(0, 512, false);
        long g = co.generation();
        write(512, 512, false);
        write(0, 512, false); // overwrite: written out and dropped
        assertEquals(false, co.overlay(0, ByteBuffer.allocate(1024), 0, 1024, g));
        co.lock().lock();
        try {
            assertTrue(co.overlay(0, ByteBuffer.allocate(1024), 0, 1024, g), "under the lock no drop can pass");
        } finally {
            co.lock().unlock();
        }
    }

    @Test
    void theClusterMapFindsEveryClusterThroughManyOpensAndDrops() throws IOException {
        SequentialCoalescer small = new SequentialCoalescer(4096, 8, (off, data) -> 1);
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int i = 0; i < 100_000; i++) {
            long index = r.nextInt(40);
            small.write(index * 4096 + 512L * r.nextInt(4), ByteBuffer.allocate(512), r.nextInt(50) == 0);
            assertTrue(small.openClusters() <= 8);
        }
        long passed = small.stats().writesPassedThrough.sum();
        long coalesced = small.stats().writesCoalesced.sum();
        assertEquals(100_000, passed + coalesced);
    }
}
