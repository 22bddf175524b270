package dev.strata.engine.readcache;

import java.util.SplittableRandom;
import java.util.function.IntPredicate;

/** Evicts a uniformly random occupied slot: the baseline every other policy must beat. */
final class RandomPolicy implements EvictionPolicy {
    private final boolean[] occupied;
    private final SplittableRandom rnd;

    RandomPolicy(int slots, long seed) {
        this.occupied = new boolean[slots];
        this.rnd = new SplittableRandom(seed);
    }

    @Override
    public void recordAccess(long keyHash) {}

    @Override
    public void onHit(int slot) {}

    @Override
    public void onInsert(int slot, long keyHash) {
        occupied[slot] = true;
    }

    @Override
    public void onRemove(int slot) {
        occupied[slot] = false;
    }

    @Override
    public int victim(long candidateHash, IntPredicate evictable) {
        int start = rnd.nextInt(occupied.length);
        for (int i = 0; i < occupied.length; i++) {
            int s = (start + i) % occupied.length;
            if (occupied[s] && evictable.test(s)) {
                return s;
            }
        }
        return -1;
    }
}
