package dev.strata.engine.objectlog;

import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Consumer;

/**
 * Every data object of a volume that is part of its log: sequence number → epoch, header and
 * data sizes, and live sectors (how much of it the extent map still points at; GC reads it).
 *
 * <p>Entries are added by the writer (for new batches) and by the loaders; live counts change
 * under the volume's map lock. Readers look entries up without a lock.
 */
public final class ObjectTable {
    /** One object. {@code liveSectors} is guarded by the volume's map lock. */
    public static final class Entry {
        public final long seq;
        public final long epoch;
        public volatile int headerBytes;
        public volatile long dataBytes;
        public long liveSectors;

        public Entry(long seq, long epoch, int headerBytes, long dataBytes) {
            this.seq = seq;
            this.epoch = epoch;
            this.headerBytes = headerBytes;
            this.dataBytes = dataBytes;
        }
    }

    private final ConcurrentSkipListMap<Long, Entry> entries = new ConcurrentSkipListMap<>();

    public Entry add(long seq, long epoch, int headerBytes, long dataBytes) {
        Entry e = new Entry(seq, epoch, headerBytes, dataBytes);
        entries.put(seq, e);
        return e;
    }

    public Entry get(long seq) {
        return entries.get(seq);
    }

    /** Number of entries with a sequence number up to {@code seq}. */
    public long countThrough(long seq) {
        return entries.headMap(seq, true).size();
    }

    public int size() {
        return entries.size();
    }

    public void forEach(Consumer<Entry> c) {
        entries.values().forEach(c);
    }

    public void remove(long seq) {
        entries.remove(seq);
    }
}
