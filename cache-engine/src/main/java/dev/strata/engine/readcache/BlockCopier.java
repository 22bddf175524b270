package dev.strata.engine.readcache;

/** Copies {@code length} bytes of an object's data area from {@code dataOffset} into {@code dst} at its position. */
@FunctionalInterface
public interface BlockCopier {
    void copy(long dataOffset, java.nio.ByteBuffer dst, int length);
}
