package dev.strata.engine.util;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct buffers for {@code O_DIRECT} I/O, carved from memory the kernel backs with transparent
 * huge pages where it can (docs/read-cache.md, "I/O buffers on huge pages").
 *
 * <p>Why: an {@code O_DIRECT} transfer pins the buffer's pages and hands the device one segment
 * per physically contiguous piece. A 1 MiB buffer of 4 KiB pages is up to 256 segments: more than
 * a virtio disk takes in one request (254 here), so it often goes out as two, and every page is
 * pinned and described on its own. The same MiB inside one 2 MiB huge page is one segment and one
 * request; measured on this machine's virtio disk, a 1 MiB {@code O_DIRECT} write took about half
 * the time and a third of the CPU, a read the same (docs/benchmarks.md, "I/O buffers on huge pages").
 *
 * <p>How: {@code mmap(2)} of anonymous memory, rounded out to a 2 MiB boundary, then
 * {@code madvise(MADV_HUGEPAGE)} before any page is touched, so the first touch faults in huge
 * pages (THP in "madvise" or "always" mode; with "never", or none free, the kernel silently gives
 * 4 KiB pages and the buffers work as any other). The mapping is unmapped when the garbage
 * collector finds no buffer of it reachable ({@link Arena#ofAuto()}): a buffer can never outlive
 * its memory, whoever still holds it. Where the calls cannot be linked (not Linux, native access
 * denied) or {@code mmap} fails, {@link #slab} falls back to a page-aligned
 * {@link ByteBuffer#allocateDirect} buffer; {@link #available()} tells which.
 *
 * <p>Mapped slabs are outside the JDK's direct memory accounting, which starts a collection when
 * its limit is reached; the engine makes little garbage, so slabs dropped by the pools could wait
 * long for a collection. So at most {@link #LIMIT_BYTES} are mapped at a time (a quarter of the
 * maximum heap, at least 256 MiB; system property {@value #LIMIT_PROPERTY}); beyond that
 * {@link #slab} allocates ordinary direct buffers, which the JDK accounts for.
 *
 * <p>Thread-safe: immutable method handles and an atomic count of mapped bytes.
 */
public final class HugePageBuffers {
    private static final System.Logger LOG = System.getLogger(HugePageBuffers.class.getName());

    /** The huge page size of x86-64 and arm64 with 4 KiB base pages. */
    public static final int HUGE_PAGE = 2 << 20;
    private static final int PAGE = 4096;
    private static final int PROT_READ_WRITE = 0x3;
    /** MAP_PRIVATE | MAP_ANONYMOUS (generic, x86-64 and arm64 values). */
    private static final int MAP_PRIVATE_ANONYMOUS = 0x22;
    private static final int MADV_HUGEPAGE = 14;
    private static final long MAP_FAILED = -1L;

    /** System property: the most bytes of mapped slabs at a time. */
    public static final String LIMIT_PROPERTY = "strata.hugePageBuffers.limitBytes";
    /** The most bytes of mapped slabs at a time; see the class comment. */
    public static final long LIMIT_BYTES = Long.getLong(LIMIT_PROPERTY, Math.max(256L << 20, Runtime.getRuntime().maxMemory() / 4));
    /** Bytes of slabs mapped now (including the huge page of slack each one maps). */
    private static final AtomicLong MAPPED = new AtomicLong();
    /** Slabs allocated on ordinary pages because the limit was reached (not because huge pages are unavailable). */
    private static final AtomicLong PAST_LIMIT = new AtomicLong();
    private static final long REPORT_EVERY_NANOS = 60_000_000_000L;
    /** When the limit was last reported (System.nanoTime), so that a process at its limit logs once a minute, not per slab. */
    private static final AtomicLong LAST_REPORT = new AtomicLong(System.nanoTime() - REPORT_EVERY_NANOS);

    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    private static final MethodHandle MADVISE;

    static {
        MethodHandle mmap = null;
        MethodHandle munmap = null;
        MethodHandle madvise = null;
        String why = null;
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (!os.startsWith("linux")) {
            why = "not Linux (os.name=" + os + ")";
        } else {
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
                mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                // int munmap(void *addr, size_t length)
                munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
                // int madvise(void *addr, size_t length, int advice)
                madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
            } catch (RuntimeException | LinkageError e) {
                mmap = munmap = madvise = null;
                why = "cannot link mmap/madvise: " + e;
            }
        }
        MMAP = mmap;
        MUNMAP = munmap;
        MADVISE = madvise;
        if (why != null) {
            LOG.log(System.Logger.Level.INFO, "I/O buffers on ordinary pages: {0}", why);
        }
    }

    private HugePageBuffers() {}

    /** Whether {@link #slab} maps memory advised for huge pages (else it allocates ordinary direct buffers). */
    public static boolean available() {
        return MMAP != null;
    }

    /**
     * A direct buffer of {@code bytes} (position 0, limit = capacity = {@code bytes}) starting on a
     * 2 MiB boundary when huge pages are {@linkplain #available() available}, on a 4 KiB one
     * otherwise. Callers slice it into the buffers they recycle: memory is whole huge pages, so
     * {@code bytes} should be a multiple of {@link #HUGE_PAGE}. It is all zeros. A mapped slab's
     * pages are faulted in (and zeroed by the kernel) on first touch, a huge page at a time: memory
     * a user never touches (most of a journal's 8 MiB entry buffers, under small writes) costs none.
     */
    public static ByteBuffer slab(int bytes) {
        return slab(bytes, LIMIT_BYTES);
    }

    /** {@link #slab} with at most {@code limitBytes} mapped at a time (tests). */
    static ByteBuffer slab(int bytes, long limitBytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("slab of " + bytes + " bytes");
        }
        if (MMAP != null) {
            // Over-map by one huge page so that a 2 MiB-aligned start fits; the whole mapping is unmapped at the end.
            long length = (long) bytes + HUGE_PAGE;
            long mapped = MAPPED.addAndGet(length);
            if (mapped <= limitBytes) {
                ByteBuffer b = mapped(bytes, length);
                if (b != null) {
                    return b;
                }
            } else {
                pastLimit(mapped - length, limitBytes);
            }
            MAPPED.addAndGet(-length);
        }
        return onOrdinaryPages(bytes);
    }

    /**
     * Counts a slab refused for the limit, and says so at most once a minute: the buffers cut from it
     * lose the speed-up (docs/read-cache.md, "I/O buffers on huge pages") and nothing else would tell.
     */
    private static void pastLimit(long mapped, long limitBytes) {
        long n = PAST_LIMIT.incrementAndGet();
        long now = System.nanoTime();
        long last = LAST_REPORT.get();
        if (now - last >= REPORT_EVERY_NANOS && LAST_REPORT.compareAndSet(last, now)) {
            LOG.log(System.Logger.Level.WARNING, "I/O buffer slabs on huge pages reached their limit ({0} of {1} bytes mapped; {2} slabs "
                    + "on ordinary pages so far): new buffers are ordinary pages until mapped slabs are collected; "
                    + "-D{3} or a larger heap raises the limit", mapped, limitBytes, n, LIMIT_PROPERTY);
        }
    }

    /**
     * Buffers of {@code size} bytes cut from one new {@link #slab} of whole huge pages (at least
     * one), as many as fit: each starts on a 4 KiB page boundary, the first at the slab's start.
     * Pools take one and keep the rest.
     */
    public static ByteBuffer[] carve(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("buffers of " + size + " bytes");
        }
        long pages = Math.max(1, ((long) size + HUGE_PAGE - 1) / HUGE_PAGE);
        int slabBytes = (int) Math.min(Integer.MAX_VALUE & -PAGE, pages * HUGE_PAGE);
        ByteBuffer slab = slab(slabBytes);
        int stride = (size + PAGE - 1) & -PAGE; // whole pages per buffer, as O_DIRECT needs
        ByteBuffer[] buffers = new ByteBuffer[(slabBytes - size) / stride + 1];
        for (int i = 0; i < buffers.length; i++) {
            buffers[i] = slab.slice(i * stride, size);
        }
        return buffers;
    }

    /** A direct buffer of {@code bytes} on ordinary pages, starting on a 4 KiB page boundary (as O_DIRECT needs). */
    public static ByteBuffer onOrdinaryPages(int bytes) {
        return ByteBuffer.allocateDirect(bytes + PAGE).alignedSlice(PAGE).limit(bytes).slice();
    }

    /** Bytes of slabs mapped now (metrics, tests). */
    public static long mappedBytes() {
        return MAPPED.get();
    }

    /** Slabs allocated on ordinary pages because {@link #LIMIT_BYTES} was reached, since the process started (metrics, tests). */
    public static long slabsPastLimit() {
        return PAST_LIMIT.get();
    }

    private static ByteBuffer mapped(int bytes, long length) {
        long base;
        try {
            base = (long) MMAP.invokeExact(0L, length, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.DEBUG, "mmap of " + length + " bytes failed", t);
            return null;
        }
        if (base == MAP_FAILED || base == 0) {
            LOG.log(System.Logger.Level.DEBUG, "mmap of {0} bytes failed", length);
            return null;
        }
        long start = (base + HUGE_PAGE - 1) & -(long) HUGE_PAGE;
        try {
            int rc = (int) MADVISE.invokeExact(start, (long) bytes, MADV_HUGEPAGE);
            if (rc != 0) {
                LOG.log(System.Logger.Level.DEBUG, "madvise(MADV_HUGEPAGE) refused: the slab stays on ordinary pages");
            }
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.DEBUG, "madvise(MADV_HUGEPAGE) failed: the slab stays on ordinary pages", t);
        }
        // Fresh anonymous memory reads as zeros; it is not touched here (see slab).
        return MemorySegment.ofAddress(start).reinterpret(bytes, Arena.ofAuto(), unused -> unmap(base, length)).asByteBuffer();
    }

    /** Runs on the cleaner's thread once no buffer of the slab is reachable. */
    private static void unmap(long base, long length) {
        try {
            int rc = (int) MUNMAP.invokeExact(base, length);
            if (rc == 0) {
                MAPPED.addAndGet(-length);
            } else {
                LOG.log(System.Logger.Level.WARNING, "munmap of an I/O buffer slab ({0} bytes) failed", length);
            }
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.WARNING, "munmap of an I/O buffer slab failed", t);
        }
    }
}
