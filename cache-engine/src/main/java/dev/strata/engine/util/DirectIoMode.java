package dev.strata.engine.util;

import com.sun.nio.file.ExtendedOpenOption;
import java.nio.file.OpenOption;

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
}
