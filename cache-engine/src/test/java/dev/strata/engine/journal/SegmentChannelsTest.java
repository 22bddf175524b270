package dev.strata.engine.journal;

import static org.junit.jupiter.api.Assertions.*;

import dev.strata.engine.util.DirectIoMode;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** O_DIRECT fallback, with a filesystem that refuses O_DIRECT simulated by the opener seam. */
class SegmentChannelsTest {
    @TempDir
    Path dir;

    private static final SegmentChannels.Opener REFUSES_DIRECT = (file, options) -> {
        if (Arrays.asList(options).contains(DirectIoMode.OPEN_OPTION)) {
            throw new IOException(file + ": Invalid argument (EINVAL)");
        }
        return FileChannel.open(file, options);
    };

    private static final EnumSet<StandardOpenOption> RW = EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);

    @Test
    void autoFallsBackToBufferedIoAndWarnsOnceNamingTheDirectory() throws Exception {
        Logger jul = Logger.getLogger(SegmentChannels.class.getName());
        AtomicInteger warnings = new AtomicInteger();
        StringBuilder text = new StringBuilder();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.incrementAndGet();
                    text.append(java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(h);
        try {
            SegmentChannels channels = new SegmentChannels(dir, DirectIoMode.AUTO, REFUSES_DIRECT);
            for (int i = 0; i < 3; i++) {
                SegmentChannels.Opened o = channels.open(dir.resolve("f" + i), RW);
                assertFalse(o.direct());
                o.channel().close();
            }
            assertEquals(1, warnings.get(), "logged once per journal");
            assertTrue(text.toString().contains(dir.toString()), text.toString());
        } finally {
            jul.removeHandler(h);
        }
    }

    @Test
    void onRefusesToFallBack() {
        SegmentChannels channels = new SegmentChannels(dir, DirectIoMode.ON, REFUSES_DIRECT);
        IOException e = assertThrows(IOException.class, () -> channels.open(dir.resolve("f"), RW));
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void offNeverAsksForDirect() throws Exception {
        SegmentChannels.Opener noDirect = (file, options) -> {
            assertFalse(Arrays.asList(options).contains(DirectIoMode.OPEN_OPTION));
            return FileChannel.open(file, options);
        };
        try (FileChannel ch = new SegmentChannels(dir, DirectIoMode.OFF, noDirect).open(dir.resolve("f"), RW).channel()) {
            assertTrue(ch.isOpen());
        }
    }

    @Test
    void segmentFilesWorkThroughTheFallback() throws Exception {
        SegmentChannels channels = new SegmentChannels(dir, DirectIoMode.AUTO, REFUSES_DIRECT);
        try (SegmentFile s = SegmentFile.create(dir, 0, "vol", 64 << 10, channels)) {
            assertFalse(s.direct());
        }
        ReplayResult r = JournalReplayer.replay(dir, "vol", 0, (seq, epoch, lba, sectors, kind, data) -> fail("empty"));
        assertEquals(SegmentSummary.Role.EMPTY, r.segments().getFirst().role());
        assertEquals(StopReason.EMPTY_BLOCK, r.stopReason());
    }

    @Test
    void directIoIsUsedWhereTheFilesystemAllowsIt() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(DirectIoMode.supportedIn(dir));
        SegmentChannels channels = new SegmentChannels(dir, DirectIoMode.AUTO);
        try (SegmentFile s = SegmentFile.create(dir, 0, "vol", 64 << 10, channels)) {
            assertTrue(s.direct());
        }
    }
}
