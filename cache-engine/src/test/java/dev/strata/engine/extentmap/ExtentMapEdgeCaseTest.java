package dev.strata.engine.extentmap;

import static dev.strata.engine.extentmap.ExtentMap.UNMAPPED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.strata.engine.extentmap.ExtentMapTesting.Entry;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-written split and merge cases, each named by the property it proves. */
class ExtentMapEdgeCaseTest {

    private static final long A = Locations.pack(1, 0);
    private static final long B = Locations.pack(2, 0);
    private static final long C = Locations.pack(3, 0);

    private final ExtentMap map = new ExtentMap();
    private final List<Entry> displaced = new ArrayList<>();
    private final DisplacedListener record = (loc, n) -> displaced.add(new Entry(-1, n, loc));

    private static Entry e(long lba, long sectors, long location) {
        return new Entry(lba, sectors, location);
    }

    private static Entry d(long location, long sectors) {
        return new Entry(-1, sectors, location);
    }

    private List<Entry> entries() {
        map.checkInvariants();
        return ExtentMapTesting.entries(map);
    }

    @Test
    void emptyMapLooksUpAsOneHole() {
        assertEquals(List.of(e(10, 100, UNMAPPED)), ExtentMapTesting.runs(map, 10, 100));
        assertEquals(List.of(), ExtentMapTesting.runs(map, 10, 0));
        assertEquals(0, map.extentCount());
    }

    @Test
    void putInsideOneExtentSplitsItInTwoAndDisplacesOnlyTheMiddle() {
        map.put(0, 100, A, null);
        map.put(40, 10, B, record);
        assertEquals(List.of(e(0, 40, A), e(40, 10, B), e(50, 50, A + 50)), entries());
        assertEquals(List.of(d(A + 40, 10)), displaced);
    }

    @Test
    void putCoveringSeveralExtentsDisplacesEachOfThemAndTheirGaps() {
        map.put(10, 10, A, null);
        map.put(30, 10, B, null);
        map.put(50, 10, C, null);
        map.put(5, 60, Locations.pack(9, 0), record);
        assertEquals(List.of(e(5, 60, Locations.pack(9, 0))), entries());
        assertEquals(List.of(d(A, 10), d(B, 10), d(C, 10)), displaced);
    }

    @Test
    void partialHeadAndTailOverlapsTrimTheOldExtentsAndAdvanceTheTailLocation() {
        map.put(0, 20, A, null);
        map.put(30, 20, B, null);
        map.put(15, 20, C, record);
        assertEquals(List.of(e(0, 15, A), e(15, 20, C), e(35, 15, B + 5)), entries());
        assertEquals(List.of(d(A + 15, 5), d(B, 5)), displaced);
    }

    @Test
    void exactOverwriteReplacesTheExtentAndDisplacesAllOfIt() {
        map.put(8, 8, A, null);
        map.put(8, 8, B, record);
        assertEquals(List.of(e(8, 8, B)), entries());
        assertEquals(List.of(d(A, 8)), displaced);
    }

    @Test
    void sequentialWriterCostsOneExtent() {
        for (int i = 0; i < 10_000; i++) {
            map.put(8L * i, 8, A + 8L * i, null);
        }
        assertEquals(List.of(e(0, 80_000, A)), entries());
    }

    @Test
    void writeFillingTheGapBetweenTwoContiguousPiecesMergesAllThree() {
        map.put(0, 10, A, null);
        map.put(20, 10, A + 20, null);
        map.put(10, 10, A + 10, null);
        assertEquals(List.of(e(0, 30, A)), entries());
    }

    @Test
    void writingBackTheSameLocationsHealsASplit() {
        map.put(0, 30, A, null);
        map.put(10, 10, B, null);
        map.put(10, 10, A + 10, record);
        assertEquals(List.of(e(0, 30, A)), entries());
        assertEquals(List.of(d(B, 10)), displaced);
    }

    @Test
    void contiguousLbasWithNonContiguousLocationsStayApartButLookupKeepsThemInOrder() {
        map.put(0, 10, A, null);
        map.put(10, 10, A + 11, null);
        assertEquals(2, map.extentCount());
        assertEquals(List.of(e(0, 10, A), e(10, 10, A + 11), e(20, 5, UNMAPPED)), ExtentMapTesting.runs(map, 0, 25));
    }

    @Test
    void extentsNeverMergeOrRunAcrossAnObjectBoundary() {
        long endOfObject1 = Locations.pack(1, Locations.MAX_OFFSET_SECTORS - 9);
        map.put(0, 10, endOfObject1, null);
        map.put(10, 10, Locations.pack(2, 0), null); // numerically contiguous, but another object
        assertEquals(2, map.extentCount());
        assertEquals(2, ExtentMapTesting.runs(map, 0, 20).size());

        // One put whose locations cross the boundary is stored (and reported) per object.
        map.put(100, 20, endOfObject1, null);
        assertEquals(List.of(e(100, 10, endOfObject1), e(110, 10, Locations.pack(2, 0))),
                ExtentMapTesting.entries(map).subList(2, 4));
        map.remove(100, 20, record);
        assertEquals(List.of(d(endOfObject1, 10), d(Locations.pack(2, 0), 10)), displaced);
        map.checkInvariants();
    }

    @Test
    void extentLongerThanTheEntryLimitIsStoredInPiecesButReadsAsOneRun() {
        long sectors = 3 * ExtentMap.MAX_ENTRY_SECTORS + 7;
        map.put(1000, sectors, 0, null); // object 0, offset 0: crosses objects too
        map.checkInvariants();
        long[] sum = {0};
        map.forEach((lba, n, loc) -> sum[0] += n);
        assertEquals(sectors, sum[0]);
        // Runs are maximal inside one object, so a run per object touched.
        List<Entry> runs = ExtentMapTesting.runs(map, 1000, sectors);
        assertEquals(4, runs.size());
        assertEquals(e(1000, Locations.OBJECT_SECTORS, 0), runs.get(0));
        map.remove(1000, sectors, record);
        assertEquals(sectors, displaced.stream().mapToLong(Entry::sectors).sum());
        assertEquals(0, map.extentCount());
    }

    @Test
    void removeInsideAnExtentLeavesAHoleAndKeepsBothSides() {
        map.put(0, 100, A, null);
        map.remove(10, 80, record);
        assertEquals(List.of(e(0, 10, A), e(90, 10, A + 90)), entries());
        assertEquals(List.of(d(A + 10, 80)), displaced);
        assertEquals(List.of(e(0, 10, A), e(10, 80, UNMAPPED), e(90, 10, A + 90)), ExtentMapTesting.runs(map, 0, 100));
    }

    @Test
    void removeOfUnmappedSpaceDisplacesNothing() {
        map.put(100, 10, A, null);
        map.remove(0, 100, record);
        map.remove(110, 1000, record);
        assertEquals(List.of(), displaced);
        assertEquals(List.of(e(100, 10, A)), entries());
    }

    @Test
    void lookupStartingInsideAnExtentReportsTheAdvancedLocation() {
        map.put(0, 100, A, null);
        assertEquals(List.of(e(30, 10, A + 30)), ExtentMapTesting.runs(map, 30, 10));
    }

    @Test
    void wholeDeviceRemoveOfAMillionExtentsEmptiesTheMapAndReportsEverySector() {
        int n = 1_000_000;
        for (int i = 0; i < n; i++) {
            map.put(16L * i, 8, Locations.pack(1 + i, 0), null); // every extent its own object
        }
        assertEquals(n, map.extentCount());
        long[] displacedSectors = {0, 0};
        long tib = (1L << 40) / 512;
        map.remove(0, tib, (loc, sectors) -> {
            displacedSectors[0] += sectors;
            displacedSectors[1]++;
        });
        assertEquals(8L * n, displacedSectors[0]);
        assertEquals(n, displacedSectors[1]);
        assertEquals(0, map.extentCount());
        map.checkInvariants();
        assertEquals(List.of(e(0, tib, UNMAPPED)), ExtentMapTesting.runs(map, 0, tib));
        map.put(5, 5, A, null); // still usable
        assertEquals(List.of(e(5, 5, A)), entries());
    }

    @Test
    void removeAcrossManyLeavesKeepsTheEdgesAndTheLeafBounds() {
        for (int i = 0; i < 100_000; i++) {
            map.put(2L * i, 1, Locations.pack(1 + i, 0), null);
        }
        map.remove(1001, 150_000, null);
        map.checkInvariants();
        assertEquals(501 + (100_000 - 75_501), map.extentCount());
    }

    @Test
    void clearForgetsEverything() {
        map.put(0, 10, A, null);
        map.clear();
        assertEquals(0, map.extentCount());
        assertEquals(List.of(), entries());
    }

    @Test
    void memoryEstimateGrowsWithExtentsAndShrinksAfterTrim() {
        long empty = map.memoryBytes();
        for (int i = 0; i < 10_000; i++) {
            map.put(2L * i, 1, Locations.pack(1 + i, 0), null);
        }
        long full = map.memoryBytes();
        map.remove(0, 1L << 30, null);
        assertEquals(true, full > empty + 16 * 10_000);
        assertEquals(true, map.memoryBytes() < 1024, "after a whole trim: " + map.memoryBytes());
    }

    @Test
    void rejectsRangesAndLocationsOutsideTheAddressSpace() {
        assertThrows(IllegalArgumentException.class, () -> map.put(-1, 1, A, null));
        assertThrows(IllegalArgumentException.class, () -> map.put(0, -1, A, null));
        assertThrows(IllegalArgumentException.class, () -> map.put(ExtentMap.MAX_LBA - 1, 2, A, null));
        assertThrows(IllegalArgumentException.class, () -> map.put(0, 1, UNMAPPED, null));
        assertThrows(IllegalArgumentException.class, () -> map.remove(0, ExtentMap.MAX_LBA + 1, null));
        assertThrows(IllegalArgumentException.class, () -> map.lookup(-5, 1, (l, n, loc) -> { }));
        map.put(ExtentMap.MAX_LBA - 1, 1, A, null); // the very last sector is fine
        assertEquals(List.of(e(ExtentMap.MAX_LBA - 1, 1, A)), entries());
    }
}
