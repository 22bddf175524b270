package dev.strata.engine.readcache;

import java.io.IOException;

/** The cache directory is used by another process (or another cache object in this one). */
public final class ReadCacheLockedException extends IOException {
    public ReadCacheLockedException(String message) {
        super(message);
    }
}
