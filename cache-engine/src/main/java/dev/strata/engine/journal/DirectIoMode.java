package dev.strata.engine.journal;

/** Whether segment files are opened with {@code O_DIRECT}. */
public enum DirectIoMode {
    /** Use {@code O_DIRECT} where the filesystem allows it, else buffered I/O (logged once). */
    AUTO,
    /** Require {@code O_DIRECT}; opening fails if the filesystem refuses it. */
    ON,
    /** Always buffered I/O (page cache), e.g. for tmpfs. */
    OFF
}
