package dev.strata.engine.extentmap;

/**
 * Receives the runs of an {@link ExtentMap#lookup}: consecutive, ascending, together exactly
 * covering the looked-up range. {@code location} is {@link ExtentMap#UNMAPPED} for a hole,
 * else the location of sector {@code lba}; a mapped run never spans two objects. Must not
 * modify the map.
 */
@FunctionalInterface
public interface RunVisitor {

    void run(long lba, long sectors, long location);
}
