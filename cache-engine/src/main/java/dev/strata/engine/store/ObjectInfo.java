package dev.strata.engine.store;

import java.time.Instant;

/**
 * A listed object: its key, its size in bytes, and when the store says it was last written (the
 * store's own clock: compare it only with other times from the same store), or null when unknown.
 */
public record ObjectInfo(String key, long size, Instant lastModified) {
    /** A listed object whose time is unknown. */
    public ObjectInfo(String key, long size) {
        this(key, size, null);
    }
}
