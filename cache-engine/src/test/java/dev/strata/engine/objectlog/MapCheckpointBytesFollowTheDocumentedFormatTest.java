package dev.strata.engine.objectlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.strata.engine.extentmap.ExtentMap;
import dev.strata.engine.extentmap.Locations;
import dev.strata.engine.util.Crc32c;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A map checkpoint's bytes are exactly the layout of docs/format.md ("Map checkpoints", format 1),
 * read here field by field without the decoder, so that a faster encoder can never change what
 * older nodes and older checkpoints agree on; and the decoder reads them back.
 */
class MapCheckpointBytesFollowTheDocumentedFormatTest {

    @Test
    void everyFieldIsWhereTheFormatSaysAndTheCrcCoversTheRest() throws IOException {
        ExtentMap map = new ExtentMap();
        map.put(8, 16, Locations.pack(3, 40), null);
        map.put(1_000_000, 8, Locations.pack(5, 0), null);
        ObjectTable table = new ObjectTable();
        table.add(3, 2, 4096, 1 << 20);
        table.add(5, 2, 8192, 2 << 20);
        table.add(6, 2, 4096, 4096); // after C: not in the table

        byte[] all = MapCheckpoint.encode("vol-a", 5, 6, 2, 77, table, map);

        ByteBuffer b = ByteBuffer.wrap(all); // big-endian, as the format says
        assertEquals(MapCheckpoint.MAGIC, b.getLong(), "magic");
        assertEquals(1, b.getInt(), "format version");
        byte[] name = new byte[b.getShort()];
        b.get(name);
        assertEquals("vol-a", new String(name, StandardCharsets.UTF_8), "volume name");
        assertEquals(5, b.getLong(), "covered C");
        assertEquals(6, b.getLong(), "referenced R");
        assertEquals(2, b.getLong(), "epoch");
        assertEquals(77, b.getLong(), "last journal sequence number");
        long created = b.getLong();
        assertFalse(created <= 0, "creation time " + created);
        assertEquals(2, b.getInt(), "object table size: objects up to C only");
        List<String> rows = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            rows.add(b.getLong() + "/" + b.getLong() + "/" + b.getInt() + "/" + b.getLong());
        }
        assertEquals(List.of("3/2/4096/1048576", "5/2/8192/2097152"), rows, "object table rows");
        assertEquals(2, b.getLong(), "extent count");
        assertEquals((8L << 24) | 16, b.getLong(), "entry 1: lba << 24 | length");
        assertEquals(Locations.pack(3, 40), b.getLong(), "entry 1: location");
        assertEquals((1_000_000L << 24) | 8, b.getLong(), "entry 2: lba << 24 | length");
        assertEquals(Locations.pack(5, 0), b.getLong(), "entry 2: location");
        assertEquals(Crc32c.of(all, 0, b.position()), b.getInt(), "CRC32C of every byte before it");
        assertEquals(all.length, b.position(), "nothing after the CRC");

        MapCheckpoint back = MapCheckpoint.decode(all, "vol-a", "test");
        assertEquals(5, back.objectSeq);
        assertEquals(6, back.referencedSeq);
        assertEquals(2, back.epoch);
        assertEquals(77, back.lastJournalSeq);
        assertEquals(2, back.objects.size());
        assertEquals(2, back.map.extentCount());
    }

    @Test
    void aFlippedByteAnywhereIsRefused() throws IOException {
        ExtentMap map = new ExtentMap();
        map.put(0, 8, Locations.pack(1, 0), null);
        ObjectTable table = new ObjectTable();
        table.add(1, 1, 4096, 4096);
        byte[] all = MapCheckpoint.encode("v", 1, 1, 1, 1, table, map);
        for (int i = 0; i < all.length; i++) {
            byte[] bad = all.clone();
            bad[i] ^= 0x10;
            int at = i;
            assertThrows(IOException.class, () -> MapCheckpoint.decode(bad, "v", "byte " + at));
        }
    }
}
