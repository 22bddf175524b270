package dev.strata.engine.extentmap;

/**
 * Told about every piece of an older extent that a {@link ExtentMap#put} or
 * {@link ExtentMap#remove} overwrote or unmapped, so the engine can keep the live bytes of each
 * object for garbage collection. A piece never spans two objects. Must not modify the map and
 * should not throw: the map reports a piece before it finishes cutting it out.
 */
@FunctionalInterface
public interface DisplacedListener {

    void displaced(long oldLocation, long sectors);
}
