package dev.strata.engine.pacing;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Linux page-cache hints, {@code sync_file_range(2)} and {@code posix_fadvise(2)}, called through
 * the Foreign Function &amp; Memory API (no JNI, no C). Java offers neither, nor the raw fd of a
 * {@code FileChannel}; the hints act on the file, not on the descriptor, so {@link #open} opens
 * the file a second time, read-only, with {@code open(2)} and keeps that fd for the hints only.
 *
 * <p>Hints never fail the I/O they accompany: when the calls cannot be linked (not Linux, libc
 * without them, native access denied) the instance is {@linkplain #available() unavailable} and
 * every {@link HintedFile} it opens is a no-op; that is logged once per instance. A call that
 * fails at run time turns its file's hints off, also logged once per instance (later ones at
 * DEBUG).
 *
 * <p>Thread-safe: the method handles are immutable; per-file state lives in {@link HintedFile}.
 */
public final class LinuxFileHints {
    private static final System.Logger LOG = System.getLogger(LinuxFileHints.class.getName());

    /** {@code sync_file_range} flags (linux/fs.h). */
    public static final int SYNC_FILE_RANGE_WAIT_BEFORE = 1;
    public static final int SYNC_FILE_RANGE_WRITE = 2;
    public static final int SYNC_FILE_RANGE_WAIT_AFTER = 4;
    /** {@code POSIX_FADV_DONTNEED}: 4 in the generic ABI; 6 on 64-bit s390. */
    public static final int POSIX_FADV_DONTNEED = "s390x".equals(System.getProperty("os.arch")) ? 6 : 4;
    /** {@code O_RDONLY | O_CLOEXEC} (generic/x86-64/arm64 values). */
    private static final int OPEN_FLAGS = 0x80000;

    private final String name;
    /** Null when unavailable; then the reason is set. */
    private final MethodHandle open;
    private final MethodHandle close;
    private final MethodHandle syncFileRange;
    private final MethodHandle fadvise;
    private final String unavailableReason;
    private final StructLayout callStateLayout;
    private final VarHandle errno;
    private final AtomicBoolean warnedUnavailable = new AtomicBoolean();
    private final AtomicBoolean warnedFailure = new AtomicBoolean();

    private static final class SystemHolder {
        static final LinuxFileHints SYSTEM = create();

        private static LinuxFileHints create() {
            String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            if (!os.startsWith("linux")) {
                return new LinuxFileHints("libc", null, "not Linux (os.name=" + os + ")");
            }
            try {
                return load(Linker.nativeLinker().defaultLookup(), "libc");
            } catch (RuntimeException | LinkageError e) {
                return new LinuxFileHints("libc", null, "cannot get the native linker: " + e);
            }
        }
    }

    /** The process-wide instance over the C library. */
    public static LinuxFileHints system() {
        return SystemHolder.SYSTEM;
    }

    /**
     * Links the calls from {@code lookup} (a seam for tests: a lookup that finds nothing yields an
     * unavailable instance). Never throws for a missing symbol or a refused link.
     */
    public static LinuxFileHints load(SymbolLookup lookup, String name) {
        try {
            return new LinuxFileHints(name, lookup, null);
        } catch (RuntimeException | LinkageError e) {
            return new LinuxFileHints(name, null, String.valueOf(e));
        }
    }

    private LinuxFileHints(String name, SymbolLookup lookup, String unavailableReason) {
        this.name = name;
        if (lookup == null) {
            this.open = this.close = this.syncFileRange = this.fadvise = null;
            this.callStateLayout = null;
            this.errno = null;
            this.unavailableReason = unavailableReason;
            return;
        }
        Linker linker = Linker.nativeLinker();
        Linker.Option captureErrno = Linker.Option.captureCallState("errno");
        this.callStateLayout = Linker.Option.captureStateLayout();
        this.errno = callStateLayout.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
        // int open(const char *path, int flags, ... /* mode_t mode */): variadic from the third argument.
        this.open = linker.downcallHandle(symbol(lookup, "open"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                captureErrno, Linker.Option.firstVariadicArg(2));
        this.close = linker.downcallHandle(symbol(lookup, "close"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        // int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags): -1 and errno on error.
        this.syncFileRange = linker.downcallHandle(symbol(lookup, "sync_file_range"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT),
                captureErrno);
        // int posix_fadvise(int fd, off_t offset, off_t len, int advice): returns the error number itself.
        this.fadvise = linker.downcallHandle(symbol(lookup, "posix_fadvise"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        this.unavailableReason = null;
    }

    private static MemorySegment symbol(SymbolLookup lookup, String symbol) {
        return lookup.find(symbol).orElseThrow(() -> new UnsatisfiedLinkError("symbol " + symbol + " not found"));
    }

    /** Whether the calls are linked; when false every {@link HintedFile} is a no-op. */
    public boolean available() {
        return open != null;
    }

    /** Why the calls are not linked, or null when they are. */
    public String unavailableReason() {
        return unavailableReason;
    }

    /**
     * Opens {@code file} (read-only, close-on-exec) for hints. Never throws: if the calls are
     * unavailable or {@code open(2)} fails, the result is a no-op ({@link HintedFile#active()}
     * false) and the reason is logged once.
     */
    public HintedFile open(Path file) {
        if (!available()) {
            if (warnedUnavailable.compareAndSet(false, true)) {
                LOG.log(System.Logger.Level.INFO, "page-cache hints ({0}) unavailable, writeback pacing is off: {1}", name, unavailableReason);
            }
            return new HintedFile(this, file, -1, null);
        }
        MemorySegment callState = Arena.ofAuto().allocate(callStateLayout);
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            fd = (int) open.invokeExact(callState, arena.allocateFrom(file.toString()), OPEN_FLAGS, 0);
        } catch (Throwable t) {
            failed(file, "open", 0, 0, -1, t);
            return new HintedFile(this, file, -1, null);
        }
        if (fd < 0) {
            failed(file, "open", 0, 0, errno(callState), null);
            return new HintedFile(this, file, -1, null);
        }
        return new HintedFile(this, file, fd, callState);
    }

    // ---- called by HintedFile on its owner's thread; the call state segment is that file's ----

    int syncFileRange(MemorySegment callState, int fd, long offset, long nbytes, int flags) throws Throwable {
        int rc = (int) syncFileRange.invokeExact(callState, fd, offset, nbytes, flags);
        return rc == 0 ? 0 : errno(callState);
    }

    int fadvise(int fd, long offset, long len, int advice) throws Throwable {
        return (int) fadvise.invokeExact(fd, offset, len, advice);
    }

    void close(int fd) {
        try {
            int rc = (int) close.invokeExact(fd);
            if (rc != 0) {
                LOG.log(System.Logger.Level.DEBUG, "close({0}) of a hint fd failed", fd);
            }
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.DEBUG, "close of a hint fd failed", t);
        }
    }

    private int errno(MemorySegment callState) {
        return (int) errno.get(callState, 0L);
    }

    void failed(Path file, String call, long offset, long len, int err, Throwable t) {
        String msg = "page-cache hint " + call + " on " + file + " [" + offset + ", +" + len + ") failed"
                + (err > 0 ? " with errno " + err : "") + (t != null ? ": " + t : "") + "; hints for this file are off";
        System.Logger.Level level = warnedFailure.compareAndSet(false, true) ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG;
        LOG.log(level, msg);
    }
}
