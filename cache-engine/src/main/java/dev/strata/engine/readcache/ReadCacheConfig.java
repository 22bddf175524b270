package dev.strata.engine.readcache;

import dev.strata.engine.util.DirectIoMode;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How a node's read cache is laid out and run (see docs/read-cache.md).
 *
 * @param dir             the cache directory (the engine uses {@code LOCALDIR/cache})
 * @param sizeBytes       total bytes of cache slots over all shards
 * @param shards          independent shards (file, lock, index, policy each)
 * @param blockSize       bytes per slot: the objects' data block size (64 KiB)
 * @param blocksPerRegion consecutive blocks of an object that map to the same shard
 * @param policy          the eviction policy of every shard
 * @param persistEvery    a shard's index is rewritten at most this often while it changes (and on close)
 * @param fillThreads     threads writing fills into the cache
 * @param fillQueue       fills waiting for a thread; more are dropped
 * @param readaheadGets   ranged GETs a sequential reader keeps in flight ahead of itself (0: no readahead)
 * @param readaheadGetBlocks blocks per readahead GET
 * @param directIo          whether the cache files are read and written with {@code O_DIRECT} (docs/read-cache.md, "The cache files bypass the page cache")
 */
public record ReadCacheConfig(Path dir, long sizeBytes, int shards, int blockSize, int blocksPerRegion,
        EvictionPolicy.Kind policy, Duration persistEvery, int fillThreads, int fillQueue, int readaheadGets,
        int readaheadGetBlocks, DirectIoMode directIo) {

    public static final int DEFAULT_BLOCK_SIZE = 64 * 1024;
    static final int DEFAULT_READAHEAD_GETS = 4;
    static final int DEFAULT_READAHEAD_GET_BLOCKS = 16;

    public ReadCacheConfig {
        if (shards < 1 || blockSize < 4096 || blocksPerRegion < 1 || fillThreads < 1 || fillQueue < 1 || readaheadGets < 0
                || readaheadGetBlocks < 1 || directIo == null) {
            throw new IllegalArgumentException("invalid read cache config for " + dir + ": shards " + shards + ", block size "
                    + blockSize + ", blocks per region " + blocksPerRegion + ", fill threads " + fillThreads + ", fill queue "
                    + fillQueue + ", readahead " + readaheadGets + " x " + readaheadGetBlocks + " blocks, direct I/O " + directIo);
        }
        if (sizeBytes / shards / blockSize < 1) {
            throw new IllegalArgumentException("read cache " + dir + ": " + sizeBytes + " bytes is less than one "
                    + blockSize + "-byte block per shard for " + shards + " shards");
        }
    }

    /** 16 shards (fewer for a cache of fewer than 16 blocks), TinyLFU, index written every 10 s, O_DIRECT where possible. */
    public static ReadCacheConfig defaults(Path dir, long sizeBytes) {
        int shards = (int) Math.max(1, Math.min(16, sizeBytes / DEFAULT_BLOCK_SIZE));
        return new ReadCacheConfig(dir, sizeBytes, shards, DEFAULT_BLOCK_SIZE, 16, EvictionPolicy.Kind.TINY_LFU,
                Duration.ofSeconds(10), 4, 256, DEFAULT_READAHEAD_GETS, DEFAULT_READAHEAD_GET_BLOCKS, DirectIoMode.AUTO);
    }

    public int slotsPerShard() {
        return (int) (sizeBytes / shards / blockSize);
    }

    public ReadCacheConfig withShards(int v) {
        return new ReadCacheConfig(dir, sizeBytes, v, blockSize, blocksPerRegion, policy, persistEvery, fillThreads,
                fillQueue, readaheadGets, readaheadGetBlocks, directIo);
    }

    public ReadCacheConfig withPolicy(EvictionPolicy.Kind v) {
        return new ReadCacheConfig(dir, sizeBytes, shards, blockSize, blocksPerRegion, v, persistEvery, fillThreads,
                fillQueue, readaheadGets, readaheadGetBlocks, directIo);
    }

    public ReadCacheConfig withPersistEvery(Duration v) {
        return new ReadCacheConfig(dir, sizeBytes, shards, blockSize, blocksPerRegion, policy, v, fillThreads,
                fillQueue, readaheadGets, readaheadGetBlocks, directIo);
    }

    public ReadCacheConfig withFillQueue(int v) {
        return new ReadCacheConfig(dir, sizeBytes, shards, blockSize, blocksPerRegion, policy, persistEvery, fillThreads, v,
                readaheadGets, readaheadGetBlocks, directIo);
    }

    public ReadCacheConfig withReadahead(int gets, int getBlocks) {
        return new ReadCacheConfig(dir, sizeBytes, shards, blockSize, blocksPerRegion, policy, persistEvery, fillThreads, fillQueue,
                gets, getBlocks, directIo);
    }

    public ReadCacheConfig withDirectIo(DirectIoMode v) {
        return new ReadCacheConfig(dir, sizeBytes, shards, blockSize, blocksPerRegion, policy, persistEvery, fillThreads, fillQueue,
                readaheadGets, readaheadGetBlocks, v);
    }
}
