package dev.strata.engine.extentmap;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Measures bytes per extent for 1 M random 4 KiB writes on a 1 TiB volume, two ways: the map's
 * own {@link ExtentMap#memoryBytes()} estimate and the heap growth seen by {@link Runtime}
 * around building it. Figures go to the test output (target/surefire-reports/*-output.txt)
 * and into docs/extent-map.md.
 */
class ExtentMapMemoryTest {

    private static final int EXTENTS = 1_000_000;
    private static final long VOLUME_SECTORS = (1L << 40) / 512;

    @Test
    void randomFourKibWritesCostAboutSixteenBytesPerExtent() {
        long before = usedHeapAfterGc();
        ExtentMap map = build();
        long after = usedHeapAfterGc();
        double estimate = (double) map.memoryBytes() / map.extentCount();
        double measured = (double) (after - before) / map.extentCount();
        System.out.printf("extents=%d memoryBytes=%d heapGrowth=%d estimate=%.2f B/extent runtime=%.2f B/extent%n",
                map.extentCount(), map.memoryBytes(), after - before, estimate, measured);
        assertTrue(map.extentCount() > 990_000, "few random 4 KiB writes overlap: " + map.extentCount());
        assertTrue(estimate < 17.0, "estimate " + estimate + " B/extent");
        // The Runtime figure is noisy (GC timing, TLABs): only guard against a gross regression.
        assertTrue(measured < 24.0, "runtime-measured " + measured + " B/extent");
        map.checkInvariants();
    }

    private static ExtentMap build() {
        ExtentMap map = new ExtentMap();
        Random r = new Random(7);
        for (int i = 0; i < EXTENTS; i++) {
            long lba = 8 * r.nextLong(VOLUME_SECTORS / 8);
            map.put(lba, 8, Locations.pack(1 + i / 4096, 8L * (i % 4096) + 1), null);
        }
        return map;
    }

    private static long usedHeapAfterGc() {
        Runtime rt = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            used = Math.min(used, rt.totalMemory() - rt.freeMemory());
        }
        return used;
    }
}
