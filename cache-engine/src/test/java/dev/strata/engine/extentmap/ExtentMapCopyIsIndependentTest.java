package dev.strata.engine.extentmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A checkpoint is encoded from a copy of the map taken under the volume's locks while writes go
 * on into the map: the copy holds exactly the entries of the moment it was taken, and neither
 * side's later changes (splits, merges, removals of whole leaves included) reach the other.
 */
class ExtentMapCopyIsIndependentTest {

    private static List<long[]> entries(ExtentMap m) {
        List<long[]> out = new ArrayList<>();
        m.forEach((lba, length, location) -> out.add(new long[] {lba, length, location}));
        return out;
    }

    private static String text(List<long[]> entries) {
        StringBuilder b = new StringBuilder();
        entries.forEach(e -> b.append(e[0]).append('+').append(e[1]).append('@').append(e[2]).append(' '));
        return b.toString();
    }

    private static void assertSameEntries(List<long[]> expected, ExtentMap m) {
        List<long[]> actual = entries(m);
        assertEquals(expected.size(), actual.size(), "entry count");
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(List.of(expected.get(i)[0], expected.get(i)[1], expected.get(i)[2]),
                    List.of(actual.get(i)[0], actual.get(i)[1], actual.get(i)[2]), "entry " + i);
        }
        assertEquals(expected.size(), m.extentCount());
        m.checkInvariants();
    }

    private static void scramble(ExtentMap m, Random r, int ops) {
        for (int i = 0; i < ops; i++) {
            long lba = r.nextInt(8192);
            long len = 1 + r.nextInt(64);
            if (r.nextInt(4) == 0) {
                m.remove(lba, len, null);
            } else {
                m.put(lba, len, Locations.pack(1 + r.nextInt(50), r.nextInt(10000)), null);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 16, ExtentMap.DEFAULT_LEAF_MAX})
    void theCopyKeepsItsMomentAndChangesOnEitherSideStayThere(int leafMax) {
        Random r = new Random(leafMax);
        ExtentMap original = new ExtentMap(leafMax, ExtentMap.MAX_ENTRY_SECTORS);
        scramble(original, r, 3000);
        List<long[]> atCopy = entries(original);

        ExtentMap copy = original.copy();
        assertSameEntries(atCopy, copy);

        scramble(original, r, 3000); // writes go on into the volume's map
        original.remove(0, 4096, null); // whole leaves disappear
        assertSameEntries(atCopy, copy);
        List<long[]> originalNow = entries(original);
        assertNotEquals(text(atCopy), text(originalNow), "the original did change");

        scramble(copy, r, 3000); // and the copy's changes never reach the original
        assertSameEntries(originalNow, original);
        copy.checkInvariants();
    }
}
