package dev.strata.engine.volume;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.NoSuchObjectException;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * Every epoch record of a volume, and the fencing rule built on them: an object or checkpoint
 * numbered {@code seq} written by epoch {@code e} is part of the volume only if
 * {@code seq <= fenceOf(e)}, the fence recorded by the first epoch after {@code e}
 * (unbounded while {@code e} is the newest). See docs/format.md, "Epochs and fencing".
 */
public final class EpochHistory {
    private final TreeMap<Long, EpochRecord> records;
    private final Set<Long> released;

    private EpochHistory(TreeMap<Long, EpochRecord> records, Set<Long> released) {
        this.records = records;
        this.released = released;
    }

    /**
     * Epoch records fetched at once by {@link #load}: a volume has one per open for writing
     * (never pruned), and every open reads them all; one at a time, a volume attached a thousand
     * times took a thousand store round trips in a row to open.
     */
    static final int CONCURRENT_GETS = 16;

    public static EpochHistory load(ObjectStore store, VolumeKeys keys) throws IOException {
        List<String> recordKeys = new ArrayList<>();
        List<Long> recordEpochs = new ArrayList<>();
        Set<Long> released = new HashSet<>();
        for (ObjectInfo info : store.list(keys.epochsPrefix())) {
            String name = info.key().substring(keys.epochsPrefix().length());
            boolean rel = name.endsWith(".released");
            String num = rel ? name.substring(0, name.length() - ".released".length()) : name;
            long epoch;
            try {
                epoch = Long.parseUnsignedLong(num, 16);
            } catch (NumberFormatException e) {
                continue; // not ours; ignore
            }
            if (rel) {
                released.add(epoch);
            } else {
                recordKeys.add(info.key());
                recordEpochs.add(epoch);
            }
        }
        EpochRecord[] fetched = fetchAll(store, recordKeys);
        TreeMap<Long, EpochRecord> records = new TreeMap<>();
        for (int i = 0; i < fetched.length; i++) {
            EpochRecord r = fetched[i];
            if (r == null) {
                continue; // deleted between list and get
            }
            if (r.epoch() != recordEpochs.get(i)) {
                throw new CorruptDataException(recordKeys.get(i) + ": record says epoch " + r.epoch());
            }
            records.put(r.epoch(), r);
        }
        return new EpochHistory(records, released);
    }

    /**
     * Whether a writer of {@code epoch} is fenced, and by whom, from one LIST: the newest epoch
     * record after {@code epoch}, or null if there is none. Only that one record is fetched (for
     * its holder), so a writer's periodic check costs a LIST however many epochs the volume has
     * had. A newer record that cannot be read still fences: the answer is then a record naming
     * the problem instead of a holder.
     */
    public static EpochRecord newerThan(ObjectStore store, VolumeKeys keys, long epoch) throws IOException {
        long newest = -1;
        String newestKey = null;
        for (ObjectInfo info : store.list(keys.epochsPrefix())) {
            String name = info.key().substring(keys.epochsPrefix().length());
            if (name.endsWith(".released")) {
                continue;
            }
            long e;
            try {
                e = Long.parseUnsignedLong(name, 16);
            } catch (NumberFormatException notOurs) {
                continue;
            }
            if (e > epoch && (newestKey == null || e > newest)) { // ordered as load() orders them
                newest = e;
                newestKey = info.key();
            }
        }
        if (newestKey == null) {
            return null;
        }
        try {
            EpochRecord r = fetch(store, newestKey);
            if (r != null && r.epoch() == newest) {
                return r;
            }
            String why = r == null ? "deleted since the listing" : "says epoch " + r.epoch();
            return new EpochRecord(newest, "?", "an unknown holder (" + newestKey + ": " + why + ")", -1, java.time.Instant.EPOCH);
        } catch (CorruptDataException e) {
            return new EpochRecord(newest, "?", "an unknown holder (" + e.getMessage() + ")", -1, java.time.Instant.EPOCH);
        }
    }

    /**
     * The records under {@code keys}, in their order ({@code null}: deleted since the listing),
     * at most {@link #CONCURRENT_GETS} GETs at a time on virtual threads. The first failure (in
     * key order) is thrown as {@link #fetch} threw it.
     */
    private static EpochRecord[] fetchAll(ObjectStore store, List<String> keys) throws IOException {
        EpochRecord[] out = new EpochRecord[keys.size()];
        if (keys.size() <= 1) {
            for (int i = 0; i < out.length; i++) {
                out[i] = fetch(store, keys.get(i));
            }
            return out;
        }
        Semaphore slots = new Semaphore(CONCURRENT_GETS);
        List<Future<EpochRecord>> futures = new ArrayList<>(keys.size());
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String key : keys) {
                futures.add(pool.submit(() -> {
                    slots.acquire();
                    try {
                        return fetch(store, key);
                    } finally {
                        slots.release();
                    }
                }));
            }
            for (int i = 0; i < out.length; i++) {
                try {
                    out[i] = futures.get(i).get();
                } catch (ExecutionException e) {
                    futures.forEach(f -> f.cancel(true)); // the load fails: the other GETs are wasted
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    if (e.getCause() instanceof RuntimeException re) {
                        throw re;
                    }
                    throw new IOException("fetching epoch record " + keys.get(i), e.getCause());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted fetching the epoch records under " + keys.get(0));
        }
        return out;
    }

    /** One epoch record; null if it was deleted since the listing. */
    private static EpochRecord fetch(ObjectStore store, String key) throws IOException {
        try {
            return EpochRecord.decode(store.get(key), key);
        } catch (NoSuchObjectException gone) {
            return null;
        } catch (CorruptDataException e) {
            throw e;
        } catch (IOException e) {
            if (e instanceof dev.strata.engine.store.ObjectStoreException) {
                throw e;
            }
            throw new CorruptDataException(e.getMessage());
        }
    }

    public EpochRecord latest() {
        return records.isEmpty() ? null : records.lastEntry().getValue();
    }

    public long latestEpoch() {
        return records.isEmpty() ? 0 : records.lastKey();
    }

    public boolean isReleased(long epoch) {
        return released.contains(epoch);
    }

    /** The last sequence number epoch {@code e} may have written, by the fence of the epoch after it. */
    public long fenceOf(long e) {
        var next = records.higherEntry(e);
        return next == null ? Long.MAX_VALUE : next.getValue().fenceObjectSeq();
    }

    public boolean isValid(long seq, long epoch) {
        return epoch <= latestEpoch() && seq <= fenceOf(epoch);
    }
}
