package dev.strata.engine.readcache;

import java.util.Arrays;
import java.util.function.IntPredicate;

/**
 * W-TinyLFU-like: new entries enter an LRU window (25 % of the slots, see below); when the shard is
 * full, the window's oldest entry (the candidate) competes with the main space's oldest entry
 * (the victim) and the one the {@link FrequencySketch} deems less frequent is evicted. The window
 * lets bursts of new blocks in; the sketch keeps a scan from flushing the frequently used ones.
 */
final class TinyLfuPolicy implements EvictionPolicy {
    /**
     * Caffeine starts at 1 % and adapts; we measured fixed windows (docs/read-cache.md): 1 % loses
     * to LRU/CLOCK on write-heavy traces, whose freshly uploaded blocks have no history yet; 25 %
     * is within 1.5 points of the best policy on every trace and size and far ahead on some.
     */
    static final int DEFAULT_WINDOW_PERCENT = 25;
    private final FrequencySketch sketch;
    private final SlotList window;
    private final SlotList main;
    private final boolean[] inWindow;
    private final long[] hashOf;
    private final int windowCapacity;

    TinyLfuPolicy(int slots) {
        this(slots, Integer.getInteger("strata.readcache.tinylfu.windowPercent", DEFAULT_WINDOW_PERCENT));
    }

    /** @param windowPercent share of the slots in the LRU window (W-TinyLFU's is 1 %; the simulator tries others) */
    TinyLfuPolicy(int slots, int windowPercent) {
        int[] prev = new int[slots];
        int[] next = new int[slots];
        Arrays.fill(prev, -1);
        Arrays.fill(next, -1);
        this.window = new SlotList(prev, next);
        this.main = new SlotList(prev, next);
        this.inWindow = new boolean[slots];
        this.hashOf = new long[slots];
        this.windowCapacity = Math.max(1, (int) ((long) slots * windowPercent / 100));
        this.sketch = new FrequencySketch(slots);
    }

    @Override
    public void recordAccess(long keyHash) {
        sketch.increment(keyHash);
    }

    @Override
    public void onHit(int slot) {
        (inWindow[slot] ? window : main).moveToFront(slot);
    }

    @Override
    public void onInsert(int slot, long keyHash) {
        hashOf[slot] = keyHash;
        inWindow[slot] = true;
        window.addFirst(slot);
        // The window overflows into the main space: its oldest entry has earned a place by surviving.
        while (window.size() > windowCapacity) {
            int s = window.tail();
            window.remove(s);
            inWindow[s] = false;
            main.addFirst(s);
        }
    }

    @Override
    public void onRemove(int slot) {
        (inWindow[slot] ? window : main).remove(slot);
        inWindow[slot] = false;
    }

    @Override
    public int victim(long candidateHash, IntPredicate evictable) {
        int candidate = window.size() >= windowCapacity ? window.oldest(evictable) : -1;
        int victim = main.oldest(evictable);
        if (candidate < 0) {
            return victim >= 0 ? victim : window.oldest(evictable);
        }
        if (victim < 0) {
            return candidate;
        }
        // The candidate (oldest of the window) moves to main only if it is more popular than main's oldest.
        return sketch.frequency(hashOf[candidate]) > sketch.frequency(hashOf[victim]) ? victim : candidate;
    }
}
