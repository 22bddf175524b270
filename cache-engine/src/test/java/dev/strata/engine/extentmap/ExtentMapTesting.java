package dev.strata.engine.extentmap;

import java.util.ArrayList;
import java.util.List;

/** Test helpers: the stored entries of a map as comparable values. */
final class ExtentMapTesting {

    record Entry(long lba, long sectors, long location) {
    }

    private ExtentMapTesting() {
    }

    static List<Entry> entries(ExtentMap map) {
        List<Entry> out = new ArrayList<>();
        map.forEach((lba, sectors, location) -> out.add(new Entry(lba, sectors, location)));
        return out;
    }

    static List<Entry> runs(ExtentMap map, long lba, long sectors) {
        List<Entry> out = new ArrayList<>();
        map.lookup(lba, sectors, (l, n, loc) -> out.add(new Entry(l, n, loc)));
        return out;
    }
}
