package dev.strata.engine.readcache;

import java.util.HashMap;
import java.util.function.BiConsumer;

/**
 * The bookkeeping of one shard, without any I/O: which key each slot holds, slot states, reader
 * pins, the free list and the eviction policy. The same class runs in the shards and in the
 * eviction simulator, so the simulator measures the code that serves reads.
 *
 * <p>Slot life cycle: FREE → (reserve) FILLING → (publish) READY → (evict / drop) FREE. Only READY
 * slots are in the index and the policy, so a slot whose bytes are still being written can be
 * neither found nor evicted. A READY slot dropped while a reader has it pinned becomes DROPPED
 * and is freed by the last unpin.
 *
 * <p>Not thread-safe: guarded by the owning shard's lock.
 */
public final class SlotTable {
    static final byte FREE = 0;
    static final byte FILLING = 1;
    static final byte READY = 2;
    static final byte DROPPED = 3;

    /** {@link #reserve} result: the key is already cached. */
    public static final int PRESENT = -1;
    /** {@link #reserve} result: no slot could be freed (all pinned, or the policy refused). */
    public static final int NO_ROOM = -2;

    private final HashMap<BlockKey, Integer> index;
    private final BlockKey[] keys;
    private final int[] crcs;
    private final int[] lengths;
    private final int[] pins;
    private final byte[] state;
    private final int[] freeStack;
    private int freeCount;
    private final EvictionPolicy policy;

    /** Plain counters, read under the same lock. */
    long evictions;
    long rejections;

    public SlotTable(int slots, EvictionPolicy policy) {
        this.index = HashMap.newHashMap(slots);
        this.keys = new BlockKey[slots];
        this.crcs = new int[slots];
        this.lengths = new int[slots];
        this.pins = new int[slots];
        this.state = new byte[slots];
        this.freeStack = new int[slots];
        for (int i = 0; i < slots; i++) {
            freeStack[i] = slots - 1 - i; // slot 0 is handed out first
        }
        this.freeCount = slots;
        this.policy = policy;
    }

    public int slots() {
        return keys.length;
    }

    public int size() {
        return index.size();
    }

    /** Whether a key is cached, without counting an access (readahead asks before fetching). */
    public boolean contains(BlockKey key) {
        return index.containsKey(key);
    }

    /** Looks a key up (counts the access); the READY slot holding it, or -1. Does not pin. */
    public int lookup(BlockKey key) {
        policy.recordAccess(key.hash64());
        Integer s = index.get(key);
        if (s == null) {
            return -1;
        }
        policy.onHit(s);
        return s;
    }

    /** {@link #lookup} and pin the slot so it is not reused while the caller reads it. */
    int lookupAndPin(BlockKey key) {
        int s = lookup(key);
        if (s >= 0) {
            pins[s]++;
        }
        return s;
    }

    void unpin(int slot) {
        if (--pins[slot] == 0 && state[slot] == DROPPED) {
            free(slot);
        }
    }

    int crc(int slot) {
        return crcs[slot];
    }

    int length(int slot) {
        return lengths[slot];
    }

    /**
     * A slot for {@code key} in state FILLING (a free one, else an evicted one), {@link #PRESENT}
     * if the key is cached already, {@link #NO_ROOM} if nothing can be evicted.
     */
    public int reserve(BlockKey key) {
        if (index.containsKey(key)) {
            return PRESENT;
        }
        int s;
        if (freeCount > 0) {
            s = freeStack[--freeCount];
        } else {
            s = policy.victim(key.hash64(), v -> pins[v] == 0);
            if (s < 0) {
                rejections++;
                return NO_ROOM;
            }
            index.remove(keys[s]);
            policy.onRemove(s);
            evictions++;
        }
        state[s] = FILLING;
        keys[s] = key;
        return s;
    }

    /**
     * Makes a FILLING slot's key visible (its bytes are written). False if another filler
     * published the same key meanwhile: then this slot is freed.
     */
    public boolean publish(int slot, BlockKey key, int crc, int length) {
        if (state[slot] != FILLING || !key.equals(keys[slot])) {
            throw new IllegalStateException("publish of slot " + slot + " for " + key + " but it is in state " + state[slot]
                    + " holding " + keys[slot]);
        }
        if (index.containsKey(key)) {
            free(slot);
            return false;
        }
        crcs[slot] = crc;
        lengths[slot] = length;
        state[slot] = READY;
        index.put(key, slot);
        policy.onInsert(slot, key.hash64());
        return true;
    }

    /** A fill failed: its FILLING slot goes back to the free list. */
    void abandon(int slot) {
        if (state[slot] == FILLING) {
            free(slot);
        }
    }

    /** Forgets {@code key} if {@code slot} still holds it (its bytes failed a check); true if it did. */
    boolean drop(int slot, BlockKey key) {
        if (state[slot] != READY || !key.equals(keys[slot])) {
            return false; // already dropped or reused
        }
        index.remove(key);
        policy.onRemove(slot);
        if (pins[slot] > 0) {
            state[slot] = DROPPED;
        } else {
            free(slot);
        }
        return true;
    }

    /** Loads a persisted entry (at open, before any other use). False if the slot is taken. */
    boolean restore(int slot, BlockKey key, int crc, int length) {
        if (state[slot] != FREE || index.containsKey(key)) {
            return false;
        }
        for (int i = 0; i < freeCount; i++) {
            if (freeStack[i] == slot) {
                freeStack[i] = freeStack[--freeCount];
                break;
            }
        }
        state[slot] = FILLING;
        keys[slot] = key;
        return publish(slot, key, crc, length);
    }

    /** Every READY entry: slot and key (CRC and length through {@link #crc} and {@link #length}). */
    void forEachReady(BiConsumer<Integer, BlockKey> action) {
        for (int s = 0; s < keys.length; s++) {
            if (state[s] == READY) {
                action.accept(s, keys[s]);
            }
        }
    }

    private void free(int slot) {
        state[slot] = FREE;
        keys[slot] = null;
        freeStack[freeCount++] = slot;
    }
}
