package dev.strata.engine.readcache;

import java.util.function.IntPredicate;

/** CLOCK (second chance): a hit sets the slot's bit; the hand clears bits until it finds a clear one. */
final class ClockPolicy implements EvictionPolicy {
    private final boolean[] occupied;
    private final boolean[] referenced;
    private int hand;

    ClockPolicy(int slots) {
        this.occupied = new boolean[slots];
        this.referenced = new boolean[slots];
    }

    @Override
    public void recordAccess(long keyHash) {}

    @Override
    public void onHit(int slot) {
        referenced[slot] = true;
    }

    @Override
    public void onInsert(int slot, long keyHash) {
        occupied[slot] = true;
        referenced[slot] = false;
    }

    @Override
    public void onRemove(int slot) {
        occupied[slot] = false;
        referenced[slot] = false;
    }

    @Override
    public int victim(long candidateHash, IntPredicate evictable) {
        int n = occupied.length;
        // Two full turns: the first may only clear reference bits.
        for (int i = 0; i < 2 * n; i++) {
            int s = hand;
            hand = (hand + 1) % n;
            if (!occupied[s] || !evictable.test(s)) {
                continue;
            }
            if (referenced[s]) {
                referenced[s] = false;
            } else {
                return s;
            }
        }
        return -1;
    }
}
