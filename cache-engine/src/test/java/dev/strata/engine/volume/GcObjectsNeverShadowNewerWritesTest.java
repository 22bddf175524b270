package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.extentmap.ExtentMap;
import dev.strata.engine.extentmap.Locations;
import dev.strata.engine.objectlog.ExtentKind;
import dev.strata.engine.objectlog.ObjectHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rule that makes GC crash-safe (docs/gc.md): a MOVE extent applies only to the sectors the
 * map still points at its source, so replaying a GC object before or after a newer write gives
 * the same map — the newer write wins either way. And the format-2 header that carries the
 * sources is versioned and checksummed like format 1.
 */
class GcObjectsNeverShadowNewerWritesTest {

    private static ObjectHeader plain(long seq, long lba, int sectors) {
        return new ObjectHeader(seq, 1, seq, seq, sectors * 512L, 0, 1, new long[] {lba}, new int[] {sectors}, new int[] {0},
                new byte[] {(byte) ExtentKind.WRITE.code}, new int[ObjectHeader.blockCount(sectors * 512L)]);
    }

    private static ObjectHeader moves(long seq, long lba, int sectors, long source) {
        return new ObjectHeader(seq, 1, 0, 0, sectors * 512L, 0, 1, new long[] {lba}, new int[] {sectors}, new int[] {0},
                new byte[] {(byte) ExtentKind.MOVE.code}, new int[ObjectHeader.blockCount(sectors * 512L)],
                new long[] {source});
    }

    private static List<long[]> runs(ExtentMap map) {
        List<long[]> out = new ArrayList<>();
        map.lookup(0, 32, (lba, n, loc) -> out.add(new long[] {lba, n, loc}));
        return out;
    }

    @Test
    void aMoveReplayedBeforeOrAfterANewerWriteYieldsTheSameMap() {
        ObjectHeader first = plain(1, 0, 16);  // LBA 0-15 in object 1
        ObjectHeader newer = plain(2, 4, 4);   // LBA 4-7 rewritten in object 2
        ObjectHeader gc = moves(3, 0, 16, Locations.pack(1, 0)); // GC copied object 1's extent (all 16 sectors) to object 3

        ExtentMap inLogOrder = new ExtentMap();
        BucketState.apply(inLogOrder, first);
        BucketState.apply(inLogOrder, newer);
        BucketState.apply(inLogOrder, gc);

        ExtentMap gcFirst = new ExtentMap();
        BucketState.apply(gcFirst, first);
        BucketState.apply(gcFirst, gc);
        BucketState.apply(gcFirst, newer);

        List<long[]> a = runs(inLogOrder);
        List<long[]> b = runs(gcFirst);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i), "run " + i);
        }
        assertArrayEquals(new long[] {0, 4, Locations.pack(3, 0)}, a.get(0));
        assertArrayEquals(new long[] {4, 4, Locations.pack(2, 0)}, a.get(1), "the newer write is never shadowed");
        assertArrayEquals(new long[] {8, 8, Locations.pack(3, 8)}, a.get(2));
    }

    @Test
    void aMoveOfTrimmedSectorsDoesNotResurrectThem() {
        ExtentMap map = new ExtentMap();
        BucketState.apply(map, plain(1, 0, 8));
        map.remove(0, 8, null); // trimmed after GC copied it
        BucketState.apply(map, moves(2, 0, 8, Locations.pack(1, 0)));
        List<long[]> r = runs(map);
        assertEquals(1, r.size());
        assertEquals(ExtentMap.UNMAPPED, r.get(0)[2]);
    }

    @Test
    void formatTwoHeadersRoundTripAndAreChecksummed() throws IOException {
        ObjectHeader h = new ObjectHeader(7, 3, 0, 0, 3 * 512L, 1234, 2, new long[] {10, 40}, new int[] {1, 2},
                new int[] {0, 1}, new byte[] {(byte) ExtentKind.MOVE.code, (byte) ExtentKind.MOVE.code}, new int[] {42},
                new long[] {Locations.pack(5, 9), Locations.pack(6, 0)});
        ByteBuffer buf = ByteBuffer.allocate(h.headerBytes);
        h.encode(buf);
        buf.flip();
        ObjectHeader back = ObjectHeader.decode(buf.duplicate(), "test");
        assertTrue(back.isMoves());
        assertArrayEquals(h.sourceLocation, back.sourceLocation);
        assertArrayEquals(h.lba, back.lba);
        assertEquals(ObjectHeader.VERSION_MOVES, buf.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(8), "a GC object is format version 2");

        ByteBuffer flipped = ByteBuffer.allocate(buf.remaining()).put(buf.duplicate()).flip();
        int at = ObjectHeader.FIXED_BYTES + 2 * ObjectHeader.EXTENT_BYTES + 4 + 3; // inside the source table
        flipped.put(at, (byte) (flipped.get(at) ^ 1));
        IOException e = assertThrows(IOException.class, () -> ObjectHeader.decode(flipped, "test"));
        assertTrue(e.getMessage().contains("CRC32C"), e.getMessage());
    }

    @Test
    void aFormatOneObjectMayNotHoldMoveExtents() {
        ObjectHeader bogus = new ObjectHeader(7, 3, 1, 1, 512, 0, 1, new long[] {0}, new int[] {1}, new int[] {0},
                new byte[] {(byte) ExtentKind.MOVE.code}, new int[] {0});
        assertNull(bogus.sourceLocation);
        ByteBuffer buf = ByteBuffer.allocate(bogus.headerBytes);
        bogus.encode(buf);
        buf.flip();
        IOException e = assertThrows(IOException.class, () -> ObjectHeader.decode(buf, "test"));
        assertTrue(e.getMessage().contains("invalid extent"), e.getMessage());
    }
}
