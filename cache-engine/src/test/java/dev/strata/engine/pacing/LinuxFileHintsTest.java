package dev.strata.engine.pacing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.SymbolLookup;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The FFM calls work on this machine, and everything degrades to a no-op when they do not. */
class LinuxFileHintsTest {
    private static final int ALL = LinuxFileHints.SYNC_FILE_RANGE_WAIT_BEFORE | LinuxFileHints.SYNC_FILE_RANGE_WRITE
            | LinuxFileHints.SYNC_FILE_RANGE_WAIT_AFTER;

    @TempDir
    Path dir;

    static void fill(Path file, long bytes) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            for (int i = 0; i < buf.capacity(); i++) {
                buf.put(i, (byte) (i * 31 + 7)); // not zeros: some filesystems special-case them
            }
            for (long pos = 0; pos < bytes; pos += buf.capacity()) {
                buf.clear();
                ch.write(buf, pos);
            }
        }
    }

    @Test
    void syncAndDontNeedDropTheFileFromThePageCache() throws Exception {
        assumeTrue(System.getProperty("os.name").toLowerCase().startsWith("linux"), "Linux only");
        LinuxFileHints hints = LinuxFileHints.system();
        assertTrue(hints.available(), () -> "unavailable: " + hints.unavailableReason());
        Path file = dir.resolve("data");
        long size = 32L << 20;
        fill(file, size);
        long pages = size / 4096;
        long before = PageCacheProbe.residentPages(file);
        assumeTrue(before > pages / 2, "page cache did not keep the fresh file (" + before + " of " + pages + " pages); nothing to observe");
        try (HintedFile h = hints.open(file)) {
            assertTrue(h.active());
            assertTrue(h.syncFileRange(0, size, ALL));
            assertTrue(h.fadvise(0, size, LinuxFileHints.POSIX_FADV_DONTNEED));
        }
        long after = PageCacheProbe.residentPages(file);
        assertTrue(after < pages / 10, "resident pages " + before + " -> " + after + " of " + pages);
    }

    @Test
    void aFailingLookupGivesNoOpsNotExceptions() throws Exception {
        LinuxFileHints none = LinuxFileHints.load(name -> Optional.empty(), "nothing");
        assertFalse(none.available());
        assertNotNull(none.unavailableReason());
        assertTrue(none.unavailableReason().contains("not found"), none.unavailableReason());
        Path file = dir.resolve("data");
        fill(file, 8L << 20);
        try (HintedFile h = none.open(file)) {
            assertFalse(h.active());
            assertFalse(h.syncFileRange(0, 4096, ALL));
            assertFalse(h.fadvise(0, 4096, LinuxFileHints.POSIX_FADV_DONTNEED));
        }
        try (WritebackPacer p = WritebackPacer.open(none, file, PacingPolicy.chunks(4096, 4096, 8192))) {
            assertFalse(p.active());
            for (long pos = 0; pos < (8L << 20); pos += 1 << 20) {
                p.onWrite(pos, 1 << 20);
            }
            p.finish();
            assertEquals(0, p.chunks());
        }
    }

    @Test
    void aLookupMissingOneSymbolIsUnavailableToo() {
        SymbolLookup libc = java.lang.foreign.Linker.nativeLinker().defaultLookup();
        LinuxFileHints partial = LinuxFileHints.load(name -> name.equals("sync_file_range") ? Optional.empty() : libc.find(name), "libc-without-sfr");
        assertFalse(partial.available());
        assertTrue(partial.unavailableReason().contains("sync_file_range"), partial.unavailableReason());
    }

    @Test
    void openOfAMissingFileIsANoOp() {
        assumeTrue(LinuxFileHints.system().available());
        try (HintedFile h = LinuxFileHints.system().open(dir.resolve("no-such-file"))) {
            assertFalse(h.active());
            assertFalse(h.syncFileRange(0, 4096, ALL));
        }
    }

    @Test
    void aFailingCallTurnsTheFileOffInsteadOfThrowing() throws Exception {
        assumeTrue(LinuxFileHints.system().available());
        Path file = dir.resolve("data");
        Files.write(file, new byte[8192]);
        try (HintedFile h = LinuxFileHints.system().open(file)) {
            assertTrue(h.active());
            assertFalse(h.syncFileRange(-1, 4096, ALL), "EINVAL for a negative offset");
            assertFalse(h.active());
            assertFalse(h.fadvise(0, 4096, LinuxFileHints.POSIX_FADV_DONTNEED));
        }
    }
}
