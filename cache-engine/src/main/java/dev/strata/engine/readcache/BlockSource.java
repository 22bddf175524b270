package dev.strata.engine.readcache;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Where missing blocks come from: the bucket (ObjectReader). */
@FunctionalInterface
public interface BlockSource {
    /**
     * Fills {@code dst} (from position 0, {@code dst.limit()} bytes) with data blocks
     * {@code first..first+count-1} of the object's data area in ONE ranged GET, and verifies each
     * block against {@code object.blockCrcs()}: a mismatch is an exception naming the object and
     * block, never data.
     *
     * @param pageCrcs null, or where the CRC32C of every 4 KiB page of the blocks goes (block k's
     *     page p at {@code k * blockSize / 4096 + p}; pages past a short block's end are left alone),
     *     computed in the same pass as the check, so the cache's fill makes none of its own
     * @return true if it made that GET; false if the bytes had already come from the bucket with
     *     another request (the start of an object's data rides with its header GET: docs/read-cache.md,
     *     "The first run rides with the header"), so the cache counts only requests that were made
     */
    boolean fetch(CachedObject object, int first, int count, ByteBuffer dst, int[] pageCrcs) throws IOException;
}
