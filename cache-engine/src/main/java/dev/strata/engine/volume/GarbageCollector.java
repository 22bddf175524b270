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
    /** Tests of the deletion rule turn this off to drive the checkpoints themselves. */
    volatile boolean makesCheckpoints = true;
    private static final int MAX_UNUPLOADED = 2;
    /** The background collector makes its own checkpoints after this many intervals without one. */
    private static final int IDLE_CHECKPOINTS_AFTER_INTERVALS = 6;
    private static final long PIN_REFRESH_NANOS = 60_000_000_000L;
    private long lastPinRefresh = System.nanoTime();
    /** Pass thread only: the pins were re-read in this pass (a LIST), so its deletes need not re-read them. */
    private boolean pinsFreshThisPass;
    /**
     * Live pieces of a victim whose data lie at most this far apart are read together: reading
     * the dead bytes between them costs less than another request (and a miss fetches whole
     * 64 KiB data blocks anyway).
     */
    private static final long MAX_READ_GAP_SECTORS = 256 * 1024 / Batch.SECTOR;
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
            pinsFreshThisPass = false;
            stats.passes.increment();
            // The pins are re-read (one LIST) only when there is work, counting work they may hold
            // back; for held-back work alone at most once a minute, unless a caller asked for the pass.
            VictimSelector.Selection sel = selector.select(volume.gcCandidates(retired, null));
            boolean pinnedWorkDue = explicit || System.nanoTime() - lastPinRefresh > PIN_REFRESH_NANOS;
            if (hasWork(sel) && (pinnedWorkDue || hasWork(selector.select(volume.gcCandidates(retired, pins))))) {
                refreshPins();
            }
            sel = selector.select(volume.gcCandidates(retired, pins));
            crashPoints.at("selected");
            int retiredNow = volume.retireIfEmpty(sel.empty(), retired, pins);
            int[] compacted = {0};
            long[] copied = {0};
            int written = compact(sel.compact(), compacted, copied);
            retiredNow += volume.retireIfEmpty(sel.compact(), retired, pins);
            long[] deleted = deleteRetired();
            if (makesCheckpoints && retired.waitsForCheckpoints() && !volume.isClosedOrFenced() && (explicit
                    || System.nanoTime() - volume.lastCheckpointNanos() > IDLE_CHECKPOINTS_AFTER_INTERVALS * options.interval().toNanos())) {
                // A quiet volume: make the two checkpoints the deletion rule waits for, then try again.
                crashPoints.at("checkpointing");
                volume.checkpointForGc();
                volume.checkpointForGc();
                long[] more = deleteRetired();
                deleted[0] += more[0];
                deleted[1] += more[1];
            }
            return new GcReport(compacted[0], copied[0], written, retiredNow, (int) deleted[0], deleted[1], retired.size());
        } finally {
            passLock.unlock();
        }
    }

    private void refreshPins() throws IOException {
        pins.refresh();
        lastPinRefresh = System.nanoTime();
        pinsFreshThisPass = true;
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
                if (scratch.capacity() < h.dataBytes) { // written with larger objects before a reopen
                    scratch = ByteBuffer.allocateDirect((int) h.dataBytes);
                }
                List<long[]> pieces = volume.livePieces(h);
                // In the order of their data in the victim, read a span at a time: one ranged read
                // (one GET on a cache miss) for neighbouring pieces, not one per piece.
                pieces.sort(java.util.Comparator.comparingLong(p -> p[2]));
                for (int i = 0; i < pieces.size(); ) {
                    long spanStart = Locations.offsetSectors(pieces.get(i)[2]);
                    long spanEnd = spanStart + pieces.get(i)[1];
                    int j = i + 1;
                    while (j < pieces.size()) {
                        long s = Locations.offsetSectors(pieces.get(j)[2]);
                        long e = s + pieces.get(j)[1];
                        if (s - spanEnd > MAX_READ_GAP_SECTORS || (e - spanStart) * Batch.SECTOR > scratch.capacity()) {
                            break;
                        }
                        spanEnd = Math.max(spanEnd, e);
                        j++;
                    }
                    int spanBytes = (int) ((spanEnd - spanStart) * Batch.SECTOR);
                    pacer.acquireBytes(spanBytes); // read once
                    scratch.clear().limit(spanBytes);
                    volume.readObjectData(v.seq(), v.epoch(), spanStart * Batch.SECTOR, scratch, spanBytes);
                    for (; i < j; i++) {
                        long[] p = pieces.get(i); // {lba, sectors, source location}
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
                            pacer.acquireBytes(bytes); // written once
                            int at = (int) ((Locations.offsetSectors(src) - spanStart) * Batch.SECTOR);
                            batch.addMove(lba, scratch.slice(at, bytes), src);
                            copied[0] += bytes;
                            stats.bytesCopied.add(bytes);
                            lba += n;
                            src += n;
                            left -= n;
                        }
                    }
                }
                inBatch.add(v);
                compacted[0]++;
            }
            crashPoints.at("copied");
            if (batch != null && !batch.isEmpty()) {
                Batch last = batch;
                batch = null; // committed or not, it is no longer ours to release
                written += commit(last, inBatch);
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
        long seq;
        try {
            pacer.acquirePut();
            seq = volume.commitMoves(batch);
        } catch (IOException | InterruptedException | RuntimeException e) {
            batch.unpin(); // not committed: its buffer goes back to the pool
            throw e;
        }
        unuploaded.addLast(seq);
        crashPoints.at("committed");
        stats.gcObjectsWritten.increment();
        stats.objectsCompacted.add(victims.size());
        victims.clear();
        return 1;
    }

    /**
     * Deletes the retired objects whose time has come. Before the first delete: the pins were
     * re-read in this pass (a snapshot this writer takes meanwhile pins at capture, and no other
     * process can take one of a held volume), at most two checkpoints exist (an older one could need the objects), and no newer
     * epoch fences this writer. Returns {objects deleted, bytes deleted}.
     */
    private long[] deleteRetired() throws IOException {
        List<RetiredObjects.Retired> due = retired.deletable(System.nanoTime(), options.deleteGrace());
        if (due.isEmpty()) {
            return new long[] {0, 0};
        }
        if (!pinsFreshThisPass) {
            refreshPins();
        }
        volume.pruneCheckpoints(); // checks the fence first
        if (volume.isClosedOrFenced()) {
            return new long[] {0, 0};
        }
        long n = 0;
        long bytes = 0;
        for (RetiredObjects.Retired r : due) {
            if (volume.isClosedOrFenced()) {
                break; // a crashed (test) or closed volume makes no more bucket changes
            }
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
