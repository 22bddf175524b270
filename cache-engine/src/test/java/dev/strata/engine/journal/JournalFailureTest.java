package dev.strata.engine.journal;

import static dev.strata.engine.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalFailureTest {
    @TempDir
    Path dir;

    @Test
    void aFailedWriteFailsTheJournalAndNeverPretendsDurability() throws Exception {
        Journal j = Journal.open(dir, small(), VOLUME, 1);
        // The second segment cannot be created: a directory sits where its temporary file goes.
        Files.createDirectory(dir.resolve(SegmentFile.fileName(1) + SegmentFile.TMP_SUFFIX));
        ByteBuffer data = ByteBuffer.allocateDirect(MAX_ENTRY);
        j.append(1, 0, MAX_ENTRY / 512, RecordKind.WRITE, data);
        j.flush();
        long durable = j.durableSeq();
        long seq = 0;
        try {
            for (int i = 0; i < 10; i++) { // more than a segment's worth
                seq = j.append(1, 0, MAX_ENTRY / 512, RecordKind.WRITE, data.duplicate());
            }
        } catch (IOException refused) { // the writer may fail before the loop ends: appends are refused from then on
            assertTrue(refused.getMessage().contains(dir.toString()), refused.getMessage());
            assertNotNull(refused.getCause());
        }
        long last = seq;
        IOException e = assertThrows(IOException.class, () -> j.awaitDurable(last));
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
        assertNotNull(e.getCause());
        assertTrue(j.durableSeq() < last);
        assertTrue(j.durableSeq() >= durable);
        assertThrows(IOException.class, () -> j.append(1, 0, 1, RecordKind.TRIM, null));
        assertThrows(IOException.class, j::flush);
        assertThrows(IOException.class, j::close);
        // What was forced is still replayable.
        assertTrue(replay(dir, 0).result().lastSeq() >= durable);
    }
}
