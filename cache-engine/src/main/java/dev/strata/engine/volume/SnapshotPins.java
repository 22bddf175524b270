package dev.strata.engine.volume;

import dev.strata.engine.extentmap.ExtentMap;
import dev.strata.engine.extentmap.Locations;
import dev.strata.engine.objectlog.MapCheckpoint;
import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.NoSuchObjectException;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The objects of a volume that some snapshot map points into: garbage collection never deletes
 * them. Every map under the volume's {@code snapshots/} prefix pins — a listed snapshot's, a
 * hidden one a clone still reads, even an orphan map of a failed create (costs space, never
 * data). Maps captured by this process but not yet stored pin from the moment of capture.
 *
 * <p>Thread safety: its own monitor; {@link #isPinned} is called under the volume's batch lock.
 */
final class SnapshotPins {
    private final ObjectStore store;
    private final VolumeKeys keys;
    private final Map<String, BitSet> byMapKey = new HashMap<>();
    /** Captures in flight or finished since the last refresh; dropped by the first refresh that starts after they finished. */
    private final List<Capture> captures = new ArrayList<>();
    private BitSet pinned = new BitSet();
    private long refreshes;

    /** A map captured for a snapshot that is being stored. */
    static final class Capture {
        final BitSet seqs;
        volatile long finishedBeforeRefresh = Long.MAX_VALUE;

        Capture(BitSet seqs) {
            this.seqs = seqs;
        }
    }

    SnapshotPins(ObjectStore store, VolumeKeys keys) {
        this.store = store;
        this.keys = keys;
    }

    /** The objects {@code map} points into (the caller keeps the map still). */
    static BitSet objectsOf(ExtentMap map) {
        BitSet seqs = new BitSet();
        map.forEach((lba, sectors, location) -> {
            long seq = Locations.objectSeq(location);
            if (seq > 0) { // 0: a clone's ZERO extent, no object
                seqs.set((int) Math.min(seq, Integer.MAX_VALUE));
            }
        });
        return seqs;
    }

    /** Pins what a snapshot map being captured points into (batch lock held by the caller). */
    synchronized Capture capture(BitSet seqs) {
        Capture c = new Capture(seqs);
        captures.add(c);
        pinned.or(seqs);
        return c;
    }

    /** The snapshot of {@code c} was stored (or failed): the next refresh's listing decides. */
    synchronized void finished(Capture c) {
        c.finishedBeforeRefresh = refreshes + 1;
    }

    synchronized boolean isPinned(long seq) {
        return seq >= Integer.MAX_VALUE || pinned.get((int) seq);
    }

    /** Re-reads the set of snapshot maps (one LIST; a GET per map not seen before). */
    void refresh() throws IOException {
        long thisRefresh;
        Set<String> have;
        synchronized (this) {
            thisRefresh = ++refreshes;
            have = new HashSet<>(byMapKey.keySet());
        }
        Set<String> listed = new HashSet<>();
        Map<String, BitSet> loaded = new HashMap<>();
        for (ObjectInfo info : store.list(keys.snapshotsPrefix())) {
            String rest = info.key().substring(keys.snapshotsPrefix().length());
            if (!rest.contains(".map-") || rest.indexOf('/') >= 0) {
                continue;
            }
            listed.add(info.key());
            if (!have.contains(info.key())) {
                try {
                    loaded.put(info.key(), objectsOf(MapCheckpoint.decode(store.get(info.key()), keys.volume(), info.key()).map));
                } catch (NoSuchObjectException gone) {
                    listed.remove(info.key()); // deleted between LIST and GET
                }
            }
        }
        synchronized (this) {
            byMapKey.keySet().retainAll(listed);
            byMapKey.putAll(loaded);
            captures.removeIf(c -> c.finishedBeforeRefresh <= thisRefresh);
            BitSet all = new BitSet();
            byMapKey.values().forEach(all::or);
            captures.forEach(c -> all.or(c.seqs));
            pinned = all;
        }
    }
}
