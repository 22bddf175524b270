package dev.strata.engine.journal;

import static dev.strata.engine.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.strata.engine.util.DirectIoMode;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackPressureTest {
    @TempDir
    Path dir;

    /** Two segments of 3 full entries each; every append fills an entry. */
    private static JournalOptions tiny() {
        return JournalOptions.builder().segmentSize(4096 + 3 * (4096 + 16384)).maxEntryDataBytes(16384).maxSegments(2)
                .directIo(DirectIoMode.OFF).build();
    }

    @Test
    void appenderBlocksWhenTheJournalIsFullAndResumesAfterRelease() throws Exception {
        long released = 0;
        try (Journal j = Journal.open(dir, tiny(), VOLUME, 1)) {
            ByteBuffer entry = ByteBuffer.allocateDirect(16384);
            AtomicLong appended = new AtomicLong();
            CompletableFuture<Void> appender = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < 20; i++) {
                        appended.set(j.append(1, i * 32L, 32, RecordKind.WRITE, entry.duplicate()));
                    }
                    j.flush();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            assertThrows(TimeoutException.class, () -> appender.get(500, TimeUnit.MILLISECONDS), "blocked for space");
            long stuckAt = appended.get();
            assertTrue(stuckAt < 20, "appender stopped at " + stuckAt);
            assertTrue(j.stats().spaceWaits() >= 1, j.stats().toString());
            // The engine uploads from memory and releases; the appender must make progress.
            while (!appender.isDone()) {
                released = appended.get();
                j.releaseThrough(released);
                Thread.sleep(20);
            }
            appender.get(10, TimeUnit.SECONDS);
            assertEquals(20, j.durableSeq());
            assertTrue(j.segmentFiles() <= 2, "never more than maxSegments files");
        }
        assertTrue(segmentFiles(dir).size() <= 2);
        // The journal still replays every record not released.
        var r = replay(dir, released);
        assertFalse(r.result().missingBefore(released), r.result().describe());
        assertEquals(20 - released, r.records().size());
        assertEquals(20, r.result().lastSeq());
        assertFalse(r.result().chainBroken(), r.result().describe());
    }

    @Test
    void blockedAppenderCanBeInterrupted() throws Exception {
        try (Journal j = Journal.open(dir, tiny(), VOLUME, 1)) {
            ByteBuffer entry = ByteBuffer.allocateDirect(16384);
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < 20; i++) {
                        j.append(1, 0, 32, RecordKind.WRITE, entry.duplicate());
                    }
                    fail("should have blocked");
                } catch (InterruptedException expected) {
                    // ok
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(300);
            assertTrue(t.isAlive());
            t.interrupt();
            t.join(5000);
            assertFalse(t.isAlive());
            j.releaseThrough(j.lastAppendedSeq()); // let close() drain
        }
    }
}
