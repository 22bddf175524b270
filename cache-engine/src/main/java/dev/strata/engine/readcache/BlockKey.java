package dev.strata.engine.readcache;

/**
 * Names one data block of one object: {@code (volume id, object sequence, epoch, block index)}.
 * Objects are immutable, so the bytes behind a key never change; the volume id (the superblock's
 * UUID, not the name) keeps a re-created volume of the same name from hitting old blocks.
 */
public record BlockKey(long volumeHigh, long volumeLow, long objectSeq, long epoch, int block) {

    /** A well-mixed 64-bit hash: used for the policy's frequency sketch. */
    public long hash64() {
        long h = mix(volumeHigh) ^ Long.rotateLeft(mix(volumeLow), 17) ^ Long.rotateLeft(mix(objectSeq), 31)
                ^ Long.rotateLeft(mix(epoch), 47);
        return mix(h + 0x9E3779B97F4A7C15L * (block + 1L));
    }

    /** Hash of the 1 MiB-ish region the block is in: consecutive blocks of an object share a shard. */
    long regionHash(int blocksPerRegion) {
        long h = mix(volumeHigh) ^ Long.rotateLeft(mix(volumeLow), 17) ^ Long.rotateLeft(mix(objectSeq), 31)
                ^ Long.rotateLeft(mix(epoch), 47);
        return mix(h + 0x9E3779B97F4A7C15L * (block / blocksPerRegion + 1L));
    }

    /** SplitMix64's finalizer. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return String.format("volume %016x%016x object %d epoch %d block %d", volumeHigh, volumeLow, objectSeq, epoch, block);
    }
}
