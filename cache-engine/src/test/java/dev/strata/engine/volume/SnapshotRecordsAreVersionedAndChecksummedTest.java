package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshot and clone records are versioned and CRC-checked like the other text records:
 * plain volumes stay superblock format 1, clones are format 2 with a parent, and a flipped byte
 * in a snapshot record or its map is an error naming the key, never a wrong snapshot.
 */
class SnapshotRecordsAreVersionedAndChecksummedTest {
    @TempDir
    Path tmp;

    @Test
    void plainVolumesStayFormat1AndClonesAreFormat2WithAParent() throws Exception {
        Superblock plain = new Superblock("v", "id", 4096, 512, 4096, Instant.EPOCH);
        String text = new String(plain.encode(), StandardCharsets.UTF_8);
        assertTrue(text.contains("format=1\n") && !text.contains("parent"), text);
        assertNull(Superblock.decode(plain.encode(), "k").parent());

        Superblock clone = new Superblock("c", "id", 4096, 512, 4096, Instant.EPOCH, "v@s");
        String ctext = new String(clone.encode(), StandardCharsets.UTF_8);
        assertTrue(ctext.contains("format=2\n") && ctext.contains("parent=v@s\n"), ctext);
        Superblock back = Superblock.decode(clone.encode(), "k");
        assertEquals(clone, back);
        assertEquals("v", back.parentVolume());
        assertEquals("s", back.parentSnapshot());

        Superblock badParent = new Superblock("c", "id", 4096, 512, 4096, Instant.EPOCH, "no-at-sign");
        IOException e = assertThrows(IOException.class, () -> Superblock.decode(badParent.encode(), "volumes/c/superblock"));
        assertTrue(e.getMessage().contains("volumes/c/superblock"), e.getMessage());
    }

    @Test
    void corruptSnapshotRecordOrMapIsAnErrorNamingTheKey() throws Exception {
        ObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("bucket"));
        StrataEngine engine = new StrataEngine(store, tmp.resolve("node"), "n1");
        engine.createVolume("v", 1 << 20);
        SnapshotRecord rec = engine.createSnapshot("v", "s");
        String key = new VolumeKeys("v").snapshot("s");
        assertEquals(rec, SnapshotRecord.decode(store.get(key), key));

        byte[] map = store.get(rec.mapKey());
        map[map.length / 2] ^= 1;
        store.put(rec.mapKey(), ByteBuffer.wrap(map));
        IOException m = assertThrows(IOException.class, () -> engine.openSnapshot("v", "s"));
        assertTrue(m.getMessage().contains(rec.mapKey()) && m.getMessage().contains("CRC32C"), m.getMessage());

        byte[] record = store.get(key);
        record[record.length / 3] ^= 1;
        store.put(key, ByteBuffer.wrap(record));
        IOException r = assertThrows(IOException.class, () -> engine.openSnapshot("v", "s"));
        assertTrue(r.getMessage().contains(key), r.getMessage());

        // A record format this reader does not know is refused, not guessed at.
        String future = new String(rec.encode(), StandardCharsets.UTF_8).replace("format=1", "format=9");
        future = future.substring(0, future.indexOf("crc32c="));
        byte[] body = future.getBytes(StandardCharsets.UTF_8);
        byte[] withCrc = (future + String.format("crc32c=%08x%n", dev.strata.engine.util.Crc32c.of(body, 0, body.length)))
                .getBytes(StandardCharsets.UTF_8);
        IOException f = assertThrows(IOException.class, () -> SnapshotRecord.decode(withCrc, key));
        assertTrue(f.getMessage().contains("unsupported snapshot record format 9"), f.getMessage());
    }
}
