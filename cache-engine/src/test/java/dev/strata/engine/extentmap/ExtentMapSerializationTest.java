package dev.strata.engine.extentmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The checkpoint form round-trips exactly and corrupt input is rejected with a clear IOException. */
class ExtentMapSerializationTest {

    private static byte[] write(ExtentMap map) {
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate((int) map.encodedBytes());
        map.writeTo(bytes);
        return bytes.array();
    }

    private static ExtentMap read(byte[] bytes) throws IOException {
        return ExtentMap.readFrom(new DataInputStream(new ByteArrayInputStream(bytes)));
    }

    /** Raw stream: a count, then (lba, length, location) triples packed as the format says. */
    private static byte[] raw(long count, long... triples) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeLong(count);
        for (int i = 0; i < triples.length; i += 3) {
            out.writeLong(triples[i] << 24 | triples[i + 1]);
            out.writeLong(triples[i + 2]);
        }
        return bytes.toByteArray();
    }

    @Test
    void randomMapRoundTripsToTheSameExtentsAndRuns() throws IOException {
        ExtentMap map = new ExtentMap();
        Random r = new Random(42);
        for (int i = 0; i < 200_000; i++) {
            map.put(r.nextLong(1L << 30), 1 + r.nextInt(64), Locations.pack(1 + i, r.nextInt(1 << 20)), null);
            if (i % 10 == 0) {
                map.remove(r.nextLong(1L << 30), 1 + r.nextInt(256), null);
            }
        }
        byte[] bytes = write(map);
        assertEquals(8 + 16 * map.extentCount(), bytes.length);
        ExtentMap copy = read(bytes);
        copy.checkInvariants();
        assertEquals(map.extentCount(), copy.extentCount());
        assertEquals(ExtentMapTesting.entries(map), ExtentMapTesting.entries(copy));
        assertEquals(ExtentMapTesting.runs(map, 0, 1L << 31), ExtentMapTesting.runs(copy, 0, 1L << 31));
        assertTrue(Arrays.equals(bytes, write(copy)), "re-serialised bytes identical");
        copy.put(0, 1, 5, null); // a loaded map is fully usable
        copy.checkInvariants();
    }

    @Test
    void emptyMapRoundTrips() throws IOException {
        ExtentMap copy = read(write(new ExtentMap()));
        assertEquals(0, copy.extentCount());
        copy.checkInvariants();
    }

    @Test
    void contiguousEntriesFromAnotherWriterAreMergedOnLoad() throws IOException {
        ExtentMap map = read(raw(2, 0, 8, 100, 8, 8, 108));
        assertEquals(1, map.extentCount());
        map.checkInvariants();
    }

    @Test
    void rejectsZeroLength() throws IOException {
        assertRejected(raw(1, 0, 0, 100), "zero length");
    }

    @Test
    void rejectsOverlappingEntries() throws IOException {
        assertRejected(raw(2, 0, 8, 100, 4, 8, 200), "overlaps");
    }

    @Test
    void rejectsUnsortedEntries() throws IOException {
        assertRejected(raw(2, 100, 8, 100, 0, 8, 200), "unsorted");
    }

    @Test
    void rejectsNegativeLocation() throws IOException {
        assertRejected(raw(1, 0, 8, -5), "negative location");
    }

    @Test
    void rejectsEntrySpanningTwoObjects() throws IOException {
        assertRejected(raw(1, 0, 8, Locations.pack(1, Locations.MAX_OFFSET_SECTORS - 3)), "spans two objects");
    }

    @Test
    void rejectsEntryPastTheAddressSpace() throws IOException {
        assertRejected(raw(1, ExtentMap.MAX_LBA - 4, 8, 100), "past the addressable space");
    }

    @Test
    void rejectsTruncatedStream() throws IOException {
        assertRejected(raw(3, 0, 8, 100, 8, 8, 300), "truncated after 2 of 3");
    }

    @Test
    void rejectsImpossibleCount() throws IOException {
        assertRejected(raw(-1), "entry count");
    }

    private static void assertRejected(byte[] bytes, String why) {
        IOException e = assertThrows(IOException.class, () -> read(bytes));
        assertTrue(e.getMessage().contains(why), "message '" + e.getMessage() + "' should say " + why);
    }

    private static byte[] raw(long count) {
        try {
            return raw(count, new long[0]);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
