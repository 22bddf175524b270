package dev.strata.engine.pacing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A paced sequential fill leaves at most about two chunks of the file in the page cache. */
class WritebackPacerTest {
    private static final long MIB = 1L << 20;

    @TempDir
    Path dir;

    @BeforeEach
    void linuxOnly() {
        assumeTrue(LinuxFileHints.system().available(), "page-cache hints unavailable here");
    }

    private static void write(FileChannel ch, WritebackPacer pacer, ByteBuffer buf, long pos) throws Exception {
        buf.clear();
        long at = pos;
        while (buf.hasRemaining()) {
            at += ch.write(buf, at);
        }
        pacer.onWrite(pos, buf.capacity());
    }

    @Test
    void sequentialFillKeepsAboutTwoChunksResident() throws Exception {
        Path file = dir.resolve("fill");
        long size = 64 * MIB;
        PacingPolicy policy = PacingPolicy.chunks(2 * MIB, 4 * MIB, 4 * MIB);
        ByteBuffer buf = ByteBuffer.allocateDirect((int) MIB);
        for (int i = 0; i < buf.capacity(); i++) {
            buf.put(i, (byte) i);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             WritebackPacer pacer = WritebackPacer.open(LinuxFileHints.system(), file, policy)) {
            assertTrue(pacer.active());
            for (long pos = 0; pos < size; pos += MIB) {
                write(ch, pacer, buf, pos);
            }
            long resident = PageCacheProbe.residentPages(file) * 4096;
            // the chunk being written + the chunk under writeback, nothing older (16 chunks: no full window, so no resize)
            assertTrue(resident <= 2 * 4 * MIB, "resident " + resident + " bytes after a paced fill of " + size);
            assertEquals(size / (4 * MIB) - 1, pacer.chunks(), "every chunk but the last finalised: " + pacer);
            pacer.finish();
            assertTrue(PageCacheProbe.residentPages(file) * 4096 < MIB, "finish drops the rest: " + pacer);
        }
    }

    @Test
    void aWriteElsewhereEndsTheRunWithoutLosingTrackOfIt() throws Exception {
        Path file = dir.resolve("jumps");
        PacingPolicy policy = PacingPolicy.chunks(4 * MIB, 4 * MIB, 4 * MIB);
        ByteBuffer buf = ByteBuffer.allocateDirect((int) MIB);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             WritebackPacer pacer = WritebackPacer.open(LinuxFileHints.system(), file, policy)) {
            for (long pos = 0; pos < 6 * MIB; pos += MIB) {
                write(ch, pacer, buf, pos); // one chunk kicked at 4 MiB, 2 MiB tail
            }
            for (long pos = 32 * MIB; pos < 36 * MIB; pos += MIB) {
                write(ch, pacer, buf, pos); // jump: the tail is kicked and [0,4) finalised; then a chunk at 32
            }
            assertEquals(1, pacer.discontinuities());
            assertEquals(2, pacer.chunks(), pacer.toString()); // [0,4) at the jump, [4,6) at 36 MiB
            pacer.finish();
            assertTrue(PageCacheProbe.residentPages(file) * 4096 < MIB, "finish drops every run: " + pacer);
        }
    }
}
