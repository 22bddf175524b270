package dev.strata.engine.extentmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LocationsTest {

    @Test
    void packUnpacksToTheSameObjectAndOffset() {
        long loc = Locations.pack(123_456_789L, 4242);
        assertEquals(123_456_789L, Locations.objectSeq(loc));
        assertEquals(4242, Locations.offsetSectors(loc));
        long max = Locations.pack(Locations.MAX_OBJECT_SEQ, Locations.MAX_OFFSET_SECTORS);
        assertTrue(max > 0, "packed locations are never negative, so UNMAPPED stays free");
    }

    @Test
    void nextSectorOfAnExtentIsLocationPlusOne() {
        assertEquals(Locations.pack(7, 11), Locations.pack(7, 10) + 1);
    }

    @Test
    void rejectsFieldsThatDoNotFit() {
        assertThrows(IllegalArgumentException.class, () -> Locations.pack(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> Locations.pack(Locations.MAX_OBJECT_SEQ + 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Locations.pack(0, Locations.MAX_OFFSET_SECTORS + 1));
        assertThrows(IllegalArgumentException.class, () -> Locations.pack(0, -1));
    }
}
