package dev.strata.engine.readcache;

import java.util.Arrays;
import java.util.function.IntPredicate;

/** Least recently used: one list, hits move to the front, the tail goes. */
final class LruPolicy implements EvictionPolicy {
    private final SlotList list;

    LruPolicy(int slots) {
        int[] prev = new int[slots];
        int[] next = new int[slots];
        Arrays.fill(prev, -1);
        Arrays.fill(next, -1);
        this.list = new SlotList(prev, next);
    }

    @Override
    public void recordAccess(long keyHash) {}

    @Override
    public void onHit(int slot) {
        list.moveToFront(slot);
    }

    @Override
    public void onInsert(int slot, long keyHash) {
        list.addFirst(slot);
    }

    @Override
    public void onRemove(int slot) {
        list.remove(slot);
    }

    @Override
    public int victim(long candidateHash, IntPredicate evictable) {
        return list.oldest(evictable);
    }
}
