package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@link Volume} facade's errors: out of range, misaligned, read-only, closed, unknown volume. */
class VolumeApiContractTest {
    @TempDir
    Path tmp;

    @Test
    void requestsOutsideTheVolumeOrMisalignedAreRefusedWithContext() throws Exception {
        StrataEngine e = new StrataEngine(new LocalDirectoryObjectStore(tmp.resolve("b")), tmp.resolve("n"), "n");
        e.createVolume("v", 1 << 20);
        try (LogStructuredVolume v = e.openForWrite("v", VolumeOptions.defaults(), false)) {
            assertEquals(1 << 20, v.size());
            OutOfRangeException past = assertThrows(OutOfRangeException.class, () -> v.write(1 << 20, ByteBuffer.allocate(512), false));
            assertTrue(past.getMessage().contains("volume v") && past.getMessage().contains("1048576"), past.getMessage());
            assertThrows(OutOfRangeException.class, () -> v.read((1 << 20) - 512, ByteBuffer.allocate(1024)));
            assertThrows(OutOfRangeException.class, () -> v.read(100, ByteBuffer.allocate(512)));
            assertThrows(OutOfRangeException.class, () -> v.write(0, ByteBuffer.allocate(100), false));
            assertThrows(OutOfRangeException.class, () -> v.trim(-512, 512));
            assertThrows(OutOfRangeException.class, () -> v.writeZeroes(0, (1 << 20) + 512, false));
            v.write((1 << 20) - 512, ByteBuffer.allocate(512), true); // the last sector is fine
            List<Volume.AllocationRun> runs = v.allocation(0, 1 << 20, 10);
            assertEquals(2, runs.size());
            assertTrue(runs.get(0).hole() && !runs.get(1).hole());
            assertEquals((1 << 20) - 512, runs.get(0).length());
            // Alternating data and holes, more runs than asked for: the runs returned are an exact prefix.
            for (int i = 0; i < 40; i++) {
                v.write(i * 8192L, ByteBuffer.allocate(4096), false);
            }
            List<Volume.AllocationRun> few = v.allocation(0, 40 * 8192L, 5);
            assertEquals(5, few.size());
            long at = 0;
            for (int i = 0; i < 5; i++) {
                assertEquals(i % 2 == 1, few.get(i).hole(), "run " + i);
                assertEquals(4096, few.get(i).length(), "run " + i);
                at += few.get(i).length();
            }
            assertEquals(5 * 4096, at);
            v.close();
            assertThrows(VolumeClosedException.class, () -> v.read(0, ByteBuffer.allocate(512)));
            assertThrows(VolumeClosedException.class, () -> v.write(0, ByteBuffer.allocate(512), false));
            assertThrows(VolumeClosedException.class, v::flush);
        }
        try (LogStructuredVolume ro = e.openReadOnly("v", VolumeOptions.defaults())) {
            assertTrue(ro.isReadOnly());
            assertThrows(ReadOnlyVolumeException.class, () -> ro.write(0, ByteBuffer.allocate(512), false));
            assertThrows(ReadOnlyVolumeException.class, () -> ro.trim(0, 512));
        }
        assertThrows(VolumeNotFoundException.class, () -> e.openForWrite("nope", VolumeOptions.defaults(), false));
        assertThrows(VolumeExistsException.class, () -> e.createVolume("v", 1 << 20));
        assertThrows(IllegalArgumentException.class, () -> e.createVolume("../x", 1 << 20));
    }
}
