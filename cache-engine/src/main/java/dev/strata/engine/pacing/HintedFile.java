package dev.strata.engine.pacing;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A file opened for page-cache hints by {@link LinuxFileHints#open}: its own read-only fd, kept
 * alongside whatever channel writes the file (any fd of a file works for these calls). A no-op
 * when the hints are unavailable or after a call failed ({@link #active()} false): the calls
 * then return false and do nothing, so the I/O they accompany never fails because of them.
 *
 * <p>Not thread-safe: used and closed by one thread (the one writing the file), because the
 * errno capture buffer is per file. No allocation per call.
 */
public final class HintedFile implements AutoCloseable {
    private final LinuxFileHints hints;
    private final Path path;
    private final MemorySegment callState;
    private int fd;

    HintedFile(LinuxFileHints hints, Path path, int fd, MemorySegment callState) {
        this.hints = hints;
        this.path = path;
        this.fd = fd;
        this.callState = callState;
    }

    public boolean active() {
        return fd >= 0;
    }

    public Path path() {
        return path;
    }

    /** {@code sync_file_range(fd, offset, nbytes, flags)}; false if not done (inactive, or it failed and hints are now off). */
    public boolean syncFileRange(long offset, long nbytes, int flags) {
        if (fd < 0) {
            return false;
        }
        int err;
        Throwable thrown = null;
        try {
            err = hints.syncFileRange(callState, fd, offset, nbytes, flags);
        } catch (Throwable t) {
            err = -1;
            thrown = t;
        }
        if (err != 0) {
            giveUp("sync_file_range(flags=" + flags + ")", offset, nbytes, err, thrown);
            return false;
        }
        return true;
    }

    /** {@code posix_fadvise(fd, offset, len, advice)}; false if not done. */
    public boolean fadvise(long offset, long len, int advice) {
        if (fd < 0) {
            return false;
        }
        int err;
        Throwable thrown = null;
        try {
            err = hints.fadvise(fd, offset, len, advice);
        } catch (Throwable t) {
            err = -1;
            thrown = t;
        }
        if (err != 0) {
            giveUp("posix_fadvise(advice=" + advice + ")", offset, len, err, thrown);
            return false;
        }
        return true;
    }

    private void giveUp(String call, long offset, long len, int err, Throwable t) {
        hints.failed(path, call, offset, len, err, t);
        close();
    }

    /** Closes the hint fd (not the file's channel). Idempotent. */
    @Override
    public void close() {
        if (fd >= 0) {
            int f = fd;
            fd = -1;
            hints.close(f);
        }
    }

    @Override
    public String toString() {
        return "HintedFile[" + path + (active() ? ", fd " + fd : ", inactive") + "]";
    }
}
