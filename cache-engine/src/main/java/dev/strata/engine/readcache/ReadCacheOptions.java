package dev.strata.engine.readcache;

import dev.strata.engine.util.DirectIoMode;

/**
 * The read cache settings a volume is opened with (part of {@code VolumeOptions}). The cache is
 * per node: the engine opens it with the settings of the first volume that asks for one.
 *
 * @param sizeBytes total cache size; 0 disables the cache
 * @param shards    independent shards
 * @param policy    eviction policy (chosen by measurement: docs/read-cache.md)
 * @param directIo  whether the cache files bypass the page cache ({@code O_DIRECT}; docs/read-cache.md, "The cache files bypass the page cache")
 */
public record ReadCacheOptions(long sizeBytes, int shards, EvictionPolicy.Kind policy, DirectIoMode directIo) {
    public static final long DEFAULT_SIZE = 1L << 30;

    public ReadCacheOptions {
        if (sizeBytes < 0 || shards < 1 || policy == null || directIo == null) {
            throw new IllegalArgumentException("invalid read cache options: size " + sizeBytes + ", shards " + shards + ", policy " + policy
                    + ", direct I/O " + directIo);
        }
    }

    /** The cache files with O_DIRECT where the filesystem allows it. */
    public ReadCacheOptions(long sizeBytes, int shards, EvictionPolicy.Kind policy) {
        this(sizeBytes, shards, policy, DirectIoMode.AUTO);
    }

    public ReadCacheOptions withSizeBytes(long v) {
        return new ReadCacheOptions(v, shards, policy, directIo);
    }

    public ReadCacheOptions withDirectIo(DirectIoMode v) {
        return new ReadCacheOptions(sizeBytes, shards, policy, v);
    }

    public static ReadCacheOptions defaults() {
        return new ReadCacheOptions(DEFAULT_SIZE, 16, EvictionPolicy.Kind.TINY_LFU);
    }

    public static ReadCacheOptions disabled() {
        return new ReadCacheOptions(0, 1, EvictionPolicy.Kind.TINY_LFU);
    }

    public boolean enabled() {
        return sizeBytes > 0;
    }

    /** The cache's configuration in {@code dir}: enough slots for at least one block per shard. */
    public ReadCacheConfig toConfig(java.nio.file.Path dir) {
        long size = Math.max(sizeBytes, (long) shards * ReadCacheConfig.DEFAULT_BLOCK_SIZE);
        return ReadCacheConfig.defaults(dir, size).withShards(shards).withPolicy(policy).withDirectIo(directIo);
    }
}
