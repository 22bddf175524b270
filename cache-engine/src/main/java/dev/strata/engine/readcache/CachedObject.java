package dev.strata.engine.readcache;

/**
 * What the cache needs to know about an object to serve and verify its blocks: its identity,
 * the length of its data area and the CRC32C its header lists for each data block.
 *
 * @param key a human name for errors and logs (the object's key in the bucket)
 */
public record CachedObject(long volumeHigh, long volumeLow, long objectSeq, long epoch, long dataBytes, int[] blockCrcs,
        String key) {

    BlockKey block(int index) {
        return new BlockKey(volumeHigh, volumeLow, objectSeq, epoch, index);
    }

    /** Bytes of data block {@code index} (the last block may be short). */
    int blockLength(int index, int blockSize) {
        return (int) Math.min(blockSize, dataBytes - (long) index * blockSize);
    }
}
