package dev.strata.engine.util;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Whether a file written in large blocks (journal segments, read-cache fills) is written with {@code O_DIRECT}. */
public enum DirectIoMode {
    /** Use {@code O_DIRECT} where the filesystem allows it, else buffered I/O (logged once). */
    AUTO,
    /** Require {@code O_DIRECT}; opening fails if the filesystem refuses it. */
    ON,
    /** Always buffered I/O (page cache), e.g. where tmpfs refuses O_DIRECT or the page cache is wanted. */
    OFF;

    /**
     * The open option for O_DIRECT. The JDK only offers it as a JDK-specific option (javac warns
     * about it once, here); every other use goes through this constant.
     */
    public static final OpenOption OPEN_OPTION = ExtendedOpenOption.DIRECT;

    /** Whether O_DIRECT works in {@code dir} (creates, writes one aligned 4 KiB block to and deletes a probe file). For tests and diagnostics. */
    public static boolean supportedIn(Path dir) {
        Path probe = dir.resolve(".direct-probe.tmp");
        try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.DELETE_ON_CLOSE, OPEN_OPTION)) {
            ch.write(HugePageBuffers.onOrdinaryPages(4096), 0);
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
