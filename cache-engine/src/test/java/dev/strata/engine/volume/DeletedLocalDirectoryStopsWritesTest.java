package dev.strata.engine.volume;

import static dev.strata.engine.volume.FilledBlocks.block;
import static dev.strata.engine.volume.FilledBlocks.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writer whose local directory is deleted (or replaced) under it stops taking writes, with an
 * error naming what happened, instead of acknowledging writes into a journal no restart could
 * find; everything it had acknowledged still reaches the bucket (docs/engine.md, "The local
 * directory vanishes").
 */
class DeletedLocalDirectoryStopsWritesTest {
    @TempDir
    Path tmp;

    @Test
    void aDeletedVolumeDirectoryRefusesWritesAndEveryAcknowledgedWriteReachesTheBucket() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine a = new StrataEngine(store, tmp.resolve("a"), "node-a");
        a.createVolume("v", 1 << 20);
        LogStructuredVolume va = a.openForWrite("v", VolumeOptions.defaults(), false);
        List<Integer> acknowledged = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            va.write(i * 4096L, block(i + 1), false);
            acknowledged.add(i);
        }
        va.flush();
        assertNull(va.writesRefusedBecause());

        deleteTree(tmp.resolve("a").resolve("volumes").resolve("v"));

        // Writes go on being acknowledged until the writer looks (once a second); then they are refused.
        LocalStateLostException refused = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (int i = 8; refused == null && i < 256 && System.nanoTime() < deadline; i++) {
            try {
                va.write(i * 4096L, block(i + 1), false);
                acknowledged.add(i);
                Thread.sleep(50);
            } catch (LocalStateLostException e) {
                refused = e;
            }
        }
        assertNotNull(refused, "writes are refused within seconds of the deletion");
        assertTrue(refused.getMessage().contains("volumes/v") && refused.getMessage().contains("deleted"),
                "names the path and what happened: " + refused.getMessage());
        assertThrows(LocalStateLostException.class, () -> va.trim(0, 4096));
        assertTrue(va.writesRefusedBecause().contains("local state lost"), va.writesRefusedBecause());

        va.flush(); // durable in the bucket now: the journal has no name any more

        StrataEngine c = new StrataEngine(store, tmp.resolve("c"), "node-c");
        try (LogStructuredVolume ro = c.openReadOnly("v", VolumeOptions.defaults())) {
            for (int i : acknowledged) {
                assertArrayEquals(block(i + 1).array(), read(ro, i * 4096L), "acknowledged block " + i + " is in the bucket");
            }
        }
        va.close();
    }

    @Test
    void aLockFileReplacedByAnotherWritersIsNoticedEvenWithTheSameInodeNumber() throws Exception {
        Path volDir = Files.createDirectories(tmp.resolve("volumes").resolve("v"));
        // A second process on a wiped directory makes a new lock file, which the file system may give
        // the freed inode number: the same inode, written by another writer, stands for that case.
        assertSeenAsReplaced(volDir, () -> Files.writeString(volDir.resolve("lock"), "strata writer pid 1 another\n"),
                "a lock file with another writer's token is not this writer's");
        assertSeenAsReplaced(volDir, () -> Files.write(volDir.resolve("lock"), new byte[] {(byte) 0xff, (byte) 0xfe, 0}),
                "a lock file of bytes that are no text at all is not this writer's either");
        assertSeenAsReplaced(volDir, () -> {
            Files.delete(volDir.resolve("lock"));
            Files.createFile(volDir.resolve("lock"));
        }, "a new lock file in its place is not this writer's");
    }

    interface Replacement {
        void run() throws IOException;
    }

    private static void assertSeenAsReplaced(Path volDir, Replacement replace, String why) throws IOException {
        VolumeDirLock lock = VolumeDirLock.acquire(volDir, "v");
        try {
            lock.watchJournal(Files.createDirectories(volDir.resolve("journal")));
            assertNull(lock.lostReason(), "the files it opened are still there");
            replace.run();
            String reason = lock.lostReason();
            assertNotNull(reason, why);
            assertTrue(reason.contains("lock") && reason.contains("replaced"), reason);
        } finally {
            lock.release();
        }
    }

    @Test
    void aDeletedJournalDirectoryIsNoticed() throws Exception {
        Path volDir = Files.createDirectories(tmp.resolve("volumes").resolve("v"));
        Path journal = Files.createDirectories(volDir.resolve("journal"));
        VolumeDirLock lock = VolumeDirLock.acquire(volDir, "v");
        try {
            lock.watchJournal(journal);
            assertNull(lock.lostReason());
            Files.delete(journal);
            String reason = lock.lostReason();
            assertNotNull(reason);
            assertTrue(reason.contains("journal was deleted"), reason);
        } finally {
            lock.release();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (var files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
