package dev.strata.engine.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link HugePageBuffers}: slabs are direct, start on a huge page, are eligible for transparent
 * huge pages where the kernel has them, carry O_DIRECT I/O, and their memory lives exactly as
 * long as some buffer of it is reachable (never unmapped under a slice still in use, unmapped
 * once none is).
 */
class HugePageBuffersTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path tmp;

    @Test
    void slabsAreDirectZeroedAndStartOnAHugePage() {
        ByteBuffer slab = HugePageBuffers.slab(2 * HugePageBuffers.HUGE_PAGE);
        assertTrue(slab.isDirect());
        assertEquals(0, slab.position());
        assertEquals(2 * HugePageBuffers.HUGE_PAGE, slab.limit());
        assertEquals(2 * HugePageBuffers.HUGE_PAGE, slab.capacity());
        for (int i = 0; i < slab.capacity(); i += 4096) {
            assertEquals(0, slab.get(i));
        }
        long address = MemorySegment.ofBuffer(slab).address();
        assertEquals(0, address % (HugePageBuffers.available() ? HugePageBuffers.HUGE_PAGE : 4096), "slab start " + Long.toHexString(address));
    }

    /** The kernel will back the slab with huge pages whenever it has them free: the mapping is advised and aligned. */
    @Test
    void slabsAreEligibleForTransparentHugePages() throws IOException {
        String mode = thpMode();
        if (!HugePageBuffers.available() || mode == null || mode.equals("never")) {
            System.err.println("SKIPPED HugePageBuffersTest.slabsAreEligibleForTransparentHugePages: huge page buffers "
                    + (HugePageBuffers.available() ? "available" : "unavailable") + ", transparent huge pages " + mode);
            Assumptions.abort("no transparent huge pages here (mode " + mode + ")");
        }
        ByteBuffer slab = HugePageBuffers.slab(HugePageBuffers.HUGE_PAGE);
        long address = MemorySegment.ofBuffer(slab).address();
        List<String> vma = mappingOf(address);
        assertFalse(vma.isEmpty(), "no mapping holds " + Long.toHexString(address));
        assertTrue(vma.stream().anyMatch(l -> l.matches("THPeligible:\\s+1")), "mapping not eligible for huge pages: " + vma);
        slab.put(0, (byte) 1); // keeps the slab reachable to here
    }

    /** Mapped slabs are outside the JDK's direct memory accounting, so their total is capped; past it, slabs are ordinary. */
    @Test
    void beyondTheLimitSlabsAreOrdinaryDirectBuffers() throws IOException {
        Assumptions.assumeTrue("madvise".equals(thpMode()) && HugePageBuffers.available(),
                "needs transparent huge pages in madvise mode, where only advised mappings are eligible");
        long before = HugePageBuffers.mappedBytes();
        long pastLimit = HugePageBuffers.slabsPastLimit();
        ByteBuffer ordinary = HugePageBuffers.slab(HugePageBuffers.HUGE_PAGE, 0);
        assertEquals(pastLimit + 1, HugePageBuffers.slabsPastLimit(), "counted, for the control socket's status");
        assertTrue(ordinary.isDirect());
        assertEquals(HugePageBuffers.HUGE_PAGE, ordinary.capacity());
        assertEquals(0, MemorySegment.ofBuffer(ordinary).address() % 4096);
        assertTrue(HugePageBuffers.mappedBytes() <= before, "a slab past the limit is not counted as mapped");
        List<String> vma = mappingOf(MemorySegment.ofBuffer(ordinary).address());
        assertTrue(vma.stream().anyMatch(l -> l.matches("THPeligible:\\s+0")), "not an advised mapping: " + vma);

        ByteBuffer mapped = HugePageBuffers.slab(HugePageBuffers.HUGE_PAGE, Long.MAX_VALUE);
        assertEquals(pastLimit + 1, HugePageBuffers.slabsPastLimit(), "a slab within the limit is not counted");
        assertTrue(HugePageBuffers.mappedBytes() >= 2L * HugePageBuffers.HUGE_PAGE, "a mapped slab (and its slack) is counted");
        assertTrue(mappingOf(MemorySegment.ofBuffer(mapped).address()).stream().anyMatch(l -> l.matches("THPeligible:\\s+1")));
    }

    @Test
    void slabsCarryODirectWritesAndReads() throws IOException {
        boolean works = DirectIoMode.supportedIn(tmp);
        if (!works) {
            System.err.println("SKIPPED HugePageBuffersTest.slabsCarryODirectWritesAndReads: the filesystem of " + tmp + " refuses O_DIRECT");
        }
        Assumptions.assumeTrue(works, "the filesystem of " + tmp + " refuses O_DIRECT");
        ByteBuffer slab = HugePageBuffers.slab(HugePageBuffers.HUGE_PAGE);
        ByteBuffer out = slab.slice(0, MIB);
        ByteBuffer in = slab.slice(MIB, MIB);
        byte[] want = new byte[MIB];
        new SplittableRandom(7).nextBytes(want);
        out.put(0, want);
        Path f = tmp.resolve("direct");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ,
                DirectIoMode.OPEN_OPTION)) {
            assertEquals(MIB, ch.write(out.clear(), 4096));
            assertEquals(MIB, ch.read(in.clear(), 4096));
        }
        byte[] got = new byte[MIB];
        in.get(0, got);
        assertTrue(java.util.Arrays.equals(want, got), "read back what was written");
    }

    @Test
    void aSliceKeepsItsSlabMappedAndTheLastOneUnmapsIt() throws Exception {
        Assumptions.assumeTrue(HugePageBuffers.available(), "huge page buffers unavailable: slabs are ordinary direct buffers");
        ByteBuffer slice = sliceOfADroppedSlab();
        long slabStart = MemorySegment.ofBuffer(slice).address() - 4096;
        // The advised range is a mapping of its own (its flags differ from its neighbours'): start-end, exactly.
        String range = Long.toHexString(slabStart) + "-" + Long.toHexString(slabStart + HugePageBuffers.HUGE_PAGE) + " ";
        assertTrue(mappingOf(slabStart).get(0).startsWith(range), "slab mapped as " + mappingOf(slabStart));
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
        }
        // Still mapped and usable (touching unmapped memory would crash the JVM rather than fail the test).
        assertTrue(mappingOf(slabStart).get(0).startsWith(range), "slab unmapped under a live slice");
        for (int i = 0; i < slice.capacity(); i++) {
            slice.put(i, (byte) i);
        }
        for (int i = 0; i < slice.capacity(); i++) {
            assertEquals((byte) i, slice.get(i));
        }
        slice = null;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!mappingOf(slabStart).isEmpty() && mappingOf(slabStart).get(0).startsWith(range)) {
            assertTrue(System.nanoTime() < deadline, "slab still mapped 10 s after its last buffer became unreachable");
            System.gc();
            Thread.sleep(20);
        }
    }

    /** A 4 KiB slice from the second page of a slab nobody else holds. */
    private static ByteBuffer sliceOfADroppedSlab() {
        return HugePageBuffers.slab(HugePageBuffers.HUGE_PAGE).slice(4096, 4096);
    }

    /** The lines of {@code /proc/self/smaps} for the mapping holding {@code address} (empty if none does). */
    private static List<String> mappingOf(long address) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            int dash = l.indexOf('-');
            int space = l.indexOf(' ');
            if (dash <= 0 || space <= dash || !l.substring(0, dash).matches("[0-9a-f]+")) {
                continue;
            }
            long start = Long.parseUnsignedLong(l.substring(0, dash), 16);
            long end = Long.parseUnsignedLong(l.substring(dash + 1, space), 16);
            if (Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0) {
                int j = i + 1;
                while (j < lines.size() && !lines.get(j).matches("[0-9a-f]+-[0-9a-f]+ .*")) {
                    j++;
                }
                return lines.subList(i, j);
            }
        }
        return List.of();
    }

    /** The transparent huge page mode in brackets ("always", "madvise", "never"), or null if the kernel has none. */
    private static String thpMode() throws IOException {
        Path p = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        if (!Files.exists(p)) {
            return null;
        }
        String s = Files.readString(p);
        int open = s.indexOf('[');
        int close = s.indexOf(']');
        return open >= 0 && close > open ? s.substring(open + 1, close) : null;
    }
}
