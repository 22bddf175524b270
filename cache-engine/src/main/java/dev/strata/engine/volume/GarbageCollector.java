package dev.strata.engine.volume;

import dev.strata.engine.extentmap.Locations;
import dev.strata.engine.gc.GcOptions;
import dev.strata.engine.gc.GcPacer;
import dev.strata.engine.gc.GcReport;
import dev.strata.engine.gc.RetiredObjects;
import dev.strata.engine.gc.VictimSelector;
import dev.strata.engine.gc.VictimSelector.Candidate;
import dev.strata.engine.objectlog.Batch;
import dev.strata.engine.objectlog.BufferPool;
import dev.strata.engine.objectlog.ObjectHeader;
import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * A volume's garbage collector (docs/gc.md). One pass: pick objects whose live fraction is under
 * the threshold ({@link VictimSelector}), copy their live extents into GC objects of MOVE extents
 * (read through the read cache), commit each GC object to the volume's log (the map switches
 * only where it still points at the copied data), and retire the emptied objects; retired
 * objects are deleted once {@link RetiredObjects} says no checkpoint, open or snapshot can need
 * them and a fence check passes.
 *
 * <p>Threads: passes run on the volume's GC thread, or on a caller of
 * {@link LogStructuredVolume#collectGarbage()}; {@link #passLock} keeps them one at a time.
 * Foreground writers only meet GC in {@link LogStructuredVolume#commitMoves}, which holds the
 * batch and map locks for the map updates of one GC object.
 */
final class GarbageCollector {
    private static final System.Logger LOG = System.getLogger(GarbageCollector.class.getName());

    /** Test hook: called at each named point of a pass; a test throws from it to "die" there. */
    interface CrashPoints {
        void at(String point) throws IOException;
    }

    /** Cumulative counters (metrics). */
    static final class Stats {
        final LongAdder passes = new LongAdder();
        final LongAdder objectsCompacted = new LongAdder();
        final LongAdder bytesCopied = new LongAdder();
        final LongAdder gcObjectsWritten = new LongAdder();
        final LongAdder objectsDeleted = new LongAdder();
        final LongAdder bytesDeleted = new LongAdder();
        final LongAdder deleteRequests = new LongAdder();
    }

    private final LogStructuredVolume volume;
    private final ObjectStore store;
    private final VolumeKeys keys;
    private final GcOptions options;
    private final VictimSelector selector;
    private final GcPacer pacer;
    private final RetiredObjects retired;
    private final SnapshotPins pins;
    private final BufferPool buffers;
    private final int maxExtents;
    private final java.util.concurrent.locks.ReentrantLock passLock = new java.util.concurrent.locks.ReentrantLock();
    final Stats stats = new Stats();
    volatile CrashPoints crashPoints = point -> { };
    private static final int MAX_UNUPLOADED = 2;
    private static final long PIN_REFRESH_NANOS = 60_000_000_000L;
    private long lastPinRefresh = System.nanoTime();
    /** Sequence numbers of committed GC objects that may not be uploaded yet (GC thread only). */
    private final java.util.ArrayDeque<Long> unuploaded = new java.util.ArrayDeque<>();
    /** Scratch for one live piece on its way from a victim into a GC batch. */
    private ByteBuffer scratch;

    GarbageCollector(LogStructuredVolume volume, ObjectStore store, VolumeKeys keys, GcOptions options, RetiredObjects retired,
            SnapshotPins pins, BufferPool buffers, int maxExtents) {
        this.volume = volume;
        this.store = store;
        this.keys = keys;
        this.options = options;
        this.selector = new VictimSelector(options.liveThreshold());
        this.pacer = new GcPacer(options.bytesPerSecond(), options.putsPerSecond());
        this.retired = retired;
        this.pins = pins;
        this.buffers = buffers;
        this.maxExtents = maxExtents;
    }

    /** The background loop of the volume's GC thread. */
    void loop() {
        while (!volume.isClosedOrFenced()) {
            try {
                Thread.sleep(options.interval().toMillis());
                collect(false);
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                if (!volume.isClosedOrFenced()) {
                    LOG.log(System.Logger.Level.WARNING, keys.volume() + ": garbage collection pass failed: " + e);
                }
            }
        }
    }

    /** One pass: compact what is worth it, then delete what is safe to. */
    GcReport collect(boolean explicit) throws IOException, InterruptedException {
        passLock.lock();
        try {
            stats.passes.increment();
            // The pins are re-read (one LIST) only when there is work, counting work they may hold
            // back; for held-back work alone at most once a minute, unless a caller asked for the pass.
            VictimSelector.Selection sel = selector.select(volume.gcCandidates(retired, null));
            boolean pinnedWorkDue = explicit || System.nanoTime() - lastPinRefresh > PIN_REFRESH_NANOS;
            if (hasWork(sel) && (pinnedWorkDue || hasWork(selector.select(volume.gcCandidates(retired, pins))))) {
                pins.refresh();
                lastPinRefresh = System.nanoTime();
            }
            sel = selector.select(volume.gcCandidates(retired, pins));
            crashPoints.at("selected");
            int retiredNow = volume.retireIfEmpty(sel.empty(), retired, pins);
            int[] compacted = {0};
            long[] copied = {0};
            int written = compact(sel.compact(), compacted, copied);
            retiredNow += volume.retireIfEmpty(sel.compact(), retired, pins);
            long[] deleted = deleteRetired();
            return new GcReport(compacted[0], copied[0], written, retiredNow, (int) deleted[0], deleted[1], retired.size());
        } finally {
            passLock.unlock();
        }
    }

    private static boolean hasWork(VictimSelector.Selection s) {
        return !s.empty().isEmpty() || !s.compact().isEmpty();
    }

    /** Copies the live data of {@code victims} into GC objects; returns how many GC objects were committed. */
    private int compact(List<Candidate> victims, int[] compacted, long[] copied) throws IOException, InterruptedException {
        if (victims.isEmpty()) {
            return 0;
        }
        int objectBytes = volume.options().objectBytes();
        if (scratch == null || scratch.capacity() < objectBytes) {
            scratch = ByteBuffer.allocateDirect(objectBytes);
        }
        int written = 0;
        Batch batch = null;
        List<Candidate> inBatch = new ArrayList<>();
        try {
            for (Candidate v : victims) {
                if (volume.isClosedOrFenced()) {
                    break;
                }
                ObjectHeader h = volume.header(v.seq(), v.epoch());
                List<long[]> pieces = volume.livePieces(h);
                if (pieces.isEmpty()) {
                    inBatch.add(v);
                    continue;
                }
                // One ranged read per victim, from its first live byte to its last: one GET (or
                // cache hits) instead of one per piece. Victims are mostly dead, so this reads
                // more bytes than it keeps, but bytes are cheaper than requests.
                long from = Long.MAX_VALUE;
                long to = 0;
                for (long[] p : pieces) {
                    from = Math.min(from, Locations.offsetSectors(p[2]) * (long) Batch.SECTOR);
                    to = Math.max(to, (Locations.offsetSectors(p[2]) + p[1]) * Batch.SECTOR);
                }
                int span = (int) (to - from);
                pacer.acquireBytes(span);
                scratch.clear().limit(span);
                volume.readObjectData(v.seq(), v.epoch(), from, scratch, span);
                for (long[] p : pieces) { // {lba, sectors, source location}
                    long lba = p[0];
                    long left = p[1];
                    long src = p[2];
                    while (left > 0) {
                        if (batch == null) {
                            batch = Batch.forMoves(0, volume.epoch(), buffers, maxExtents);
                        }
                        int room = batch.hasExtentRoom() ? batch.room() / Batch.SECTOR : 0;
                        if (room == 0) {
                            written += commit(batch, inBatch);
                            batch = null;
                            continue;
                        }
                        int n = (int) Math.min(left, room);
                        int bytes = n * Batch.SECTOR;
                        pacer.acquireBytes(bytes);
                        int at = (int) (Locations.offsetSectors(src) * (long) Batch.SECTOR - from);
                        batch.addMove(lba, scratch.slice(at, bytes), src);
                        copied[0] += bytes;
                        stats.bytesCopied.add(bytes);
                        lba += n;
                        src += n;
                        left -= n;
                    }
                }
                inBatch.add(v);
                compacted[0]++;
            }
            crashPoints.at("copied");
            if (batch != null && !batch.isEmpty()) {
                written += commit(batch, inBatch);
                batch = null;
            }
        } finally {
            if (batch != null) {
                batch.unpin(); // not committed: its buffer goes back to the pool
            }
        }
        return written;
    }

    /**
     * Commits one GC batch to the log; its upload goes on in the background. GC keeps at most
     * {@link #MAX_UNUPLOADED} of its objects in memory: beyond that it waits for the oldest
     * (sealing the writer's open batch if that is what holds the upload order back).
     */
    private int commit(Batch batch, List<Candidate> victims) throws IOException, InterruptedException {
        if (batch.isEmpty()) {
            batch.unpin();
            return 0;
        }
        while (unuploaded.size() >= MAX_UNUPLOADED) {
            volume.awaitUploadedSealing(unuploaded.removeFirst());
        }
        pacer.acquirePut();
        long seq = volume.commitMoves(batch);
        unuploaded.addLast(seq);
        crashPoints.at("committed");
        stats.gcObjectsWritten.increment();
        stats.objectsCompacted.add(victims.size());
        victims.clear();
        return 1;
    }

    /**
     * Deletes the retired objects whose time has come. Before the first delete: the pins are
     * fresh, at most two checkpoints exist (an older one could need the objects), and no newer
     * epoch fences this writer. Returns {objects deleted, bytes deleted}.
     */
    private long[] deleteRetired() throws IOException {
        List<RetiredObjects.Retired> due = retired.deletable(System.nanoTime(), options.deleteGrace());
        if (due.isEmpty()) {
            return new long[] {0, 0};
        }
        pins.refresh();
        List<ObjectInfo> checkpoints = store.list(keys.checkpointsPrefix());
        for (int i = 0; i < checkpoints.size() - 2; i++) {
            store.delete(checkpoints.get(i).key());
        }
        volume.checkFence();
        if (volume.isClosedOrFenced()) {
            return new long[] {0, 0};
        }
        long n = 0;
        long bytes = 0;
        for (RetiredObjects.Retired r : due) {
            if (pins.isPinned(r.seq())) {
                continue; // a snapshot taken before it was emptied still reads it; kept until that snapshot goes
            }
            crashPoints.at("deleting");
            store.delete(keys.object(r.seq(), r.epoch())); // first: a crash before forgetting it only repeats the delete
            long size = volume.forgetObject(r.seq());
            retired.deleted(r.seq());
            stats.deleteRequests.increment();
            stats.objectsDeleted.increment();
            stats.bytesDeleted.add(size);
            n++;
            bytes += size;
        }
        return new long[] {n, bytes};
    }
}
