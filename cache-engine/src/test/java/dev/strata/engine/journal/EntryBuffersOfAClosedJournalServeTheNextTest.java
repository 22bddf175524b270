package dev.strata.engine.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.util.DirectIoMode;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A closed journal's entry buffers (one huge-page slab per pair) serve the next journal opened
 * with the same entry size instead of a fresh slab (which costs milliseconds to fault in on a
 * VM), never two journals at once, and nothing of the first journal's records reaches the second
 * one's file: every entry written carries only its own bytes and zeros.
 */
class EntryBuffersOfAClosedJournalServeTheNextTest {
    /** An entry size no other test uses, so that no other journal takes the slab in between. */
    private static final int DATA_BYTES = (1 << 20) + 3 * JournalFormat.BLOCK;

    @TempDir
    Path tmp;

    private static long address(EntryBatch b) {
        return MemorySegment.ofBuffer(b.entry).address();
    }

    private static JournalOptions options() {
        return JournalTestSupport.small(DirectIoMode.OFF).maxEntryDataBytes(DATA_BYTES).segmentSize(4L << 20).build();
    }

    @Test
    void aRecycledPairIsTakenAgainAndNeverTwice() {
        EntryBatch[] first = EntryBatch.pairForWriting(DATA_BYTES);
        assertEquals(JournalFormat.BLOCK + DATA_BYTES, first[0].entry.capacity());
        assertEquals(DATA_BYTES, first[0].maxDataBytes());
        assertEquals(DATA_BYTES, first[1].maxDataBytes());
        assertEquals(0, address(first[0]) % JournalFormat.BLOCK);
        assertEquals(JournalFormat.BLOCK + DATA_BYTES, address(first[1]) - address(first[0]), "the two batches lie back to back");
        EntryBatch.recycle(first);
        EntryBatch[] second = EntryBatch.pairForWriting(DATA_BYTES);
        assertEquals(address(first[0]), address(second[0]), "the recycled slab is taken again");
        EntryBatch[] third = EntryBatch.pairForWriting(DATA_BYTES);
        assertNotEquals(address(second[0]), address(third[0]), "a slab in use is never handed out twice");
    }

    @Test
    void batchesOfTheirOwnAreNotRecycled() {
        EntryBatch a = new EntryBatch(JournalFormat.BLOCK);
        EntryBatch b = new EntryBatch(JournalFormat.BLOCK);
        EntryBatch.recycle(new EntryBatch[] {a, b});
        EntryBatch[] pair = EntryBatch.pairForWriting(JournalFormat.BLOCK);
        assertTrue(address(pair[0]) != address(a) && address(pair[0]) != address(b), "only pairs cut from one slab come back");
    }

    @Test
    void theNextJournalWritesFromTheClosedOnesSlabAndOnlyItsOwnBytes() throws Exception {
        Journal first = Journal.open(tmp.resolve("a"), options(), JournalTestSupport.VOLUME, 1);
        long memory = address(first.batches[0]);
        // A large record of 0x5A fills both batches far beyond what the next journal writes.
        for (int i = 0; i < 4; i++) {
            ByteBuffer big = ByteBuffer.allocate(256 * JournalFormat.SECTOR);
            Arrays.fill(big.array(), (byte) 0x5A);
            first.append(1, i * 256L, 256, RecordKind.WRITE, big);
            first.flush();
        }
        first.close();

        Path b = tmp.resolve("b");
        try (Journal second = Journal.open(b, options(), JournalTestSupport.VOLUME, 1)) {
            assertEquals(memory, address(second.batches[0]), "the next journal writes from the closed one's slab");
            ByteBuffer one = ByteBuffer.allocate(JournalFormat.SECTOR);
            Arrays.fill(one.array(), (byte) 0x11);
            second.append(1, 7, 1, RecordKind.WRITE, one); // 512 bytes: the rest of its 4 KiB is padding
            second.flush();
        }
        List<JournalTestSupport.Rec> replayed = JournalTestSupport.replay(b, 0).records();
        assertEquals(1, replayed.size());
        byte[] want = new byte[JournalFormat.SECTOR];
        Arrays.fill(want, (byte) 0x11);
        assertTrue(Arrays.equals(want, replayed.get(0).data()));
        // No byte of the first journal's records anywhere in the second one's files.
        try (var files = Files.list(b)) {
            for (Path f : files.toList()) {
                byte[] bytes = Files.readAllBytes(f);
                for (int i = 0; i < bytes.length; i++) {
                    if (bytes[i] == 0x5A) {
                        throw new AssertionError(f.getFileName() + " byte " + i + " is the closed journal's data (0x5A)");
                    }
                }
            }
        }
    }
}
