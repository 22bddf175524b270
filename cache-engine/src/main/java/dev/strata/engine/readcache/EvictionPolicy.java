package dev.strata.engine.readcache;

import java.util.function.IntPredicate;

/**
 * Decides which slot of a full shard gives way. Policies see slots only while they are READY
 * (published); a slot being filled is not in the policy. Not thread-safe: the owning
 * {@link SlotTable} calls it under its shard's lock.
 */
public interface EvictionPolicy {

    /** Every lookup of a key, hit or miss (frequency-aware policies count it). */
    void recordAccess(long keyHash);

    /** The key in {@code slot} was read. */
    void onHit(int slot);

    /** {@code slot} now holds a published key. */
    void onInsert(int slot, long keyHash);

    /** {@code slot} no longer holds a key (evicted or dropped). */
    void onRemove(int slot);

    /**
     * The slot to evict so that a key with {@code candidateHash} can come in, among slots that
     * {@code evictable} accepts (not pinned by a reader); -1 if none (or, for an admission
     * policy, if the candidate is not worth it).
     */
    int victim(long candidateHash, IntPredicate evictable);

    /** The policies, by name (configuration and the simulator). */
    enum Kind {
        RANDOM, LRU, CLOCK, TINY_LFU;

        public EvictionPolicy create(int slots, long seed) {
            return switch (this) {
                case RANDOM -> new RandomPolicy(slots, seed);
                case LRU -> new LruPolicy(slots);
                case CLOCK -> new ClockPolicy(slots);
                case TINY_LFU -> new TinyLfuPolicy(slots);
            };
        }
    }
}
