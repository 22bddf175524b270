package dev.strata.engine.extentmap;

/** Receives the stored extents of an {@link ExtentMap#forEach}, in LBA order. Must not modify the map. */
@FunctionalInterface
public interface ExtentVisitor {

    void extent(long lba, long sectors, long location);
}
